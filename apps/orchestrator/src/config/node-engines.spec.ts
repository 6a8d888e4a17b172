import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { intersects, subset, validRange } from 'semver';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../../../', import.meta.url).pathname;

interface Manifest {
  name: string;
  version: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  workspaces?: string[];
}

const read = (file: string): Manifest => JSON.parse(readFileSync(file, 'utf8')) as Manifest;

/** Where Node finds package `name` from the package in `from`: the nearest node_modules above it. */
function resolvePackage(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === dirname(dir)) return undefined;
  }
}

/** Every installed package the service needs at run time (dependencies, not devDependencies), with its manifest. */
function productionPackages(): Map<string, Manifest> {
  const found = new Map<string, Manifest>();
  const root = read(join(ROOT, 'package.json'));
  const workspaces = ['libs/contracts', 'libs/agent-sdk'].map((dir) => join(ROOT, dir));
  const visit = (dir: string, manifest: Manifest): void => {
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      const path = resolvePackage(name, dir);
      if (!path || found.has(path)) continue;
      const dependency = read(join(path, 'package.json'));
      found.set(path, dependency);
      visit(path, dependency);
    }
  };
  visit(ROOT, root);
  for (const dir of workspaces) visit(dir, read(join(dir, 'package.json')));
  return found;
}

describe('the Node versions the project declares', () => {
  const engines = read(join(ROOT, 'package.json')).engines?.node ?? '';

  it('are within what every run-time dependency accepts', () => {
    expect(validRange(engines)).not.toBeNull();
    const packages = [...productionPackages().values()];
    expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(['@nestjs/core', 'typeorm', 'ajv', '@nats-io/nuid']));
    const refused = packages.filter((p) => p.engines?.node !== undefined && !subset(engines, p.engines.node)).map((p) => `${p.name}@${p.version}: ${p.engines?.node}`);
    expect(refused).toEqual([]);
  });

  it('include the Node of the Docker image and of .nvmrc', () => {
    const images = [...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^FROM node:(\d+)[-\w.]* AS/gm)].map((match) => match[1]);
    expect(images.length).toBeGreaterThan(0);
    const nvmrc = readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim();
    // The image and nvm take the latest release of a major version: some of its releases must be in range.
    for (const major of [...images, nvmrc]) expect(intersects(`^${major}`, engines), `Node ${major}`).toBe(true);
  });
});
