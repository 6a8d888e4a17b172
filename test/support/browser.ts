import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

/** Debian's Chromium: playwright's own browser download cannot be had here. `scripts/test.sh` installs it. */
export const CHROMIUM = '/usr/bin/chromium';

/** Where the screenshots go: `docs/images/` with UPDATE_SCREENSHOTS=1 (to refresh the README's), else the test data directory. */
export const SCREENSHOT_DIR = process.env['UPDATE_SCREENSHOTS'] === '1' ? join(ROOT, 'docs', 'images') : join(ROOT, '.data', 'test', 'screenshots');

/** Headless Chromium, with a clear error when it or the dashboard's build is missing. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (scripts/test.sh does it when run as root)`);
  if (!existsSync(join(ROOT, 'apps', 'dashboard', 'dist', 'index.html'))) throw new Error('the dashboard is not built: run npm run build');
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // The sandbox needs user namespaces, which containers and root sessions often lack.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** A page of 1400×900 that fails the test on any error the page itself throws. */
export async function openPage(browser: Browser, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (error) => errors.push(error.message));
  return page;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** A browser for the enclosing describe block and a fresh page for each test, which fails on any error its page throws. */
export function useBrowserPage(): { readonly page: Page } {
  let browser: Browser | undefined;
  let page: Page | undefined;
  const errors: string[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    errors.length = 0;
    if (!browser) throw new Error('the browser did not start');
    page = await openPage(browser, errors);
  });
  afterEach(async () => {
    await page?.close();
    expect(errors).toEqual([]);
  });
  return {
    get page(): Page {
      if (!page) throw new Error('the page is open only inside a test');
      return page;
    },
  };
}
