import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { intersects, satisfies, subset, validRange } from 'semver';
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

/** The packages published to the npm registry, each with its own `engines`. */
const LIBRARIES = ['libs/contracts', 'libs/agent-sdk', 'libs/client'];

/** Every installed package that `roots` need at run time (dependencies, not devDependencies), with its manifest. */
function productionPackages(roots: string[] = ['', ...LIBRARIES]): Map<string, Manifest> {
  const found = new Map<string, Manifest>();
  const visit = (dir: string, manifest: Manifest): void => {
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      const path = resolvePackage(name, dir);
      if (!path || found.has(path)) continue;
      const dependency = read(join(path, 'package.json'));
      found.set(path, dependency);
      visit(path, dependency);
    }
  };
  for (const dir of roots.map((root) => join(ROOT, root))) visit(dir, read(join(dir, 'package.json')));
  return found;
}

/** The packages whose `engines` do not accept every Node that `engines` allows. */
function refusing(engines: string, packages: Iterable<Manifest>): string[] {
  return [...packages].filter((p) => p.engines?.node !== undefined && !subset(engines, p.engines.node)).map((p) => `${p.name}@${p.version}: ${p.engines?.node}`);
}

describe('the Node versions the project declares', () => {
  const engines = read(join(ROOT, 'package.json')).engines?.node ?? '';

  it('are within what every run-time dependency accepts', () => {
    expect(validRange(engines)).not.toBeNull();
    const packages = [...productionPackages().values()];
    expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(['@nestjs/core', 'typeorm', 'ajv', '@nats-io/nuid']));
    expect(refusing(engines, packages)).toEqual([]);
  });

  it('take in Node 20.19 and every later 20, the floor, for the service and each published library', () => {
    expect(satisfies('20.19.0', engines) && satisfies('20.99.0', engines), engines).toBe(true);
    for (const library of LIBRARIES) {
      const own = read(join(ROOT, library, 'package.json')).engines?.node ?? '';
      expect(satisfies('20.19.0', own), `${library}: ${own}`).toBe(true);
      // Installed alone, with what it depends on, a library draws no EBADENGINE warning on the Node it accepts.
      expect(refusing(own, productionPackages([library]).values()), library).toEqual([]);
    }
  });

  it('include the Node of the Docker image and of .nvmrc', () => {
    const images = [...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^FROM node:(\d+)[-\w.]* AS/gm)].map((match) => match[1]);
    expect(images.length).toBeGreaterThan(0);
    const nvmrc = readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim();
    // The image and nvm take the latest release of a major version: some of its releases must be in range.
    for (const major of [...images, nvmrc]) expect(intersects(`^${major}`, engines), `Node ${major}`).toBe(true);
  });
});
