import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publicationName, publish, publishFromPayload, slugify } from './communication.agent.js';

const tempDir = (): string => mkdtempSync(join(tmpdir(), 'publish-'));

describe('slugify', () => {
  it.each([
    ['../../etc/passwd', 'etc-passwd'],
    ['..\\..\\windows\\system32', 'windows-system32'],
    ['Hello, World!', 'hello-world'],
    ['////', 'post'],
    ['..', 'post'],
    ['', 'post'],
    ['Ünïcödé tïtle', 'unicode-title'],
    ['a\0b', 'a-b'],
  ])('slugifies %j to %j', (title, slug) => expect(slugify(title)).toBe(slug));

  it('is at most 60 characters and never ends with a dash', () => {
    const slug = slugify(`${'word '.repeat(30)}`);
    expect(slug.length).toBeLessThanOrEqual(60);
    expect(slug.endsWith('-')).toBe(false);
  });

  it('names the files after the slug and a hash of the content', () => {
    expect(publicationName('Post', 'md', 'html')).toMatch(/^post-[0-9a-f]{12}$/);
    expect(publicationName('Post', 'md', 'html')).toBe(publicationName('Post', 'md', 'html'));
    expect(publicationName('Post', 'md', 'html2')).not.toBe(publicationName('Post', 'md', 'html'));
  });
});

describe('publish', () => {
  it('writes both documents inside the folder, whatever the title', async () => {
    const dir = tempDir();
    const result = await publish(dir, '../../escape', '# md', '<html></html>', new Date('2026-01-01T00:00:00Z'));
    expect(isAbsolute(result.location)).toBe(true);
    expect(dirname(result.location)).toBe(dir);
    expect(dirname(result.markdown_location)).toBe(dir);
    expect(result.location.endsWith('.html')).toBe(true);
    expect(result.markdown_location.endsWith('.md')).toBe(true);
    expect(readFileSync(result.location, 'utf8')).toBe('<html></html>');
    expect(readFileSync(result.markdown_location, 'utf8')).toBe('# md');
    expect(result).toMatchObject({ published_at: '2026-01-01T00:00:00.000Z', bytes: 13, url: `file://${result.location}` });
  });

  it('creates a missing folder, and publishing the same post twice gives the same files', async () => {
    const dir = join(tempDir(), 'nested', 'deeper');
    const first = await publish(dir, 'Same', '# same', '<p>é</p>');
    const second = await publish(dir, 'Same', '# same', '<p>é</p>');
    expect(second.location).toBe(first.location);
    expect(first.bytes).toBe(Buffer.byteLength('<p>é</p>'));
    expect(readdirSync(dir).sort()).toEqual([`${publicationName('Same', '# same', '<p>é</p>')}.html`, `${publicationName('Same', '# same', '<p>é</p>')}.md`]);
  });
});

describe('publishFromPayload', () => {
  it('names the wrong field', async () => {
    const dir = tempDir();
    await expect(publishFromPayload(dir, { documents: { markdown: 'm', html: 'h' } })).rejects.toThrow('payload.title: is required');
    await expect(publishFromPayload(dir, { title: 'T' })).rejects.toThrow('payload.documents: is required');
    await expect(publishFromPayload(dir, { title: 'T', documents: { markdown: 'm' } })).rejects.toThrow('payload.documents.html: is required');
    expect(readdirSync(dir)).toEqual([]);
  });
});
