import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = new URL('../../../../', import.meta.url).pathname;

interface Compose {
  services: Record<string, { image?: string; ports?: string[] }>;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as Compose;
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

describe('docker-compose.yml and the Dockerfile', () => {
  it("publish every port on this machine's loopback only", () => {
    const published = Object.entries(compose.services).flatMap(([name, service]) => (service.ports ?? []).map((port) => [name, port] as const));
    expect(published.length).toBeGreaterThan(0);
    for (const [name, port] of published) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('pin every image of the stack, and every base image, to a release', () => {
    const images = [...Object.values(compose.services).flatMap((service) => (service.image ? [service.image] : [])), ...[...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1] ?? '')];
    expect(images.length).toBeGreaterThan(3);
    for (const image of images) expect(image, image).toMatch(/^[^:@\s]+(:(?!latest$)[\w.-]+|@sha256:[0-9a-f]{64})$/);
  });

  it('install the runtime stage without running any install script', () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const installs = runtime.split('\n').filter((line) => /\bnpm (ci|install)\b/.test(line));
    expect(installs.length).toBeGreaterThan(0);
    for (const line of installs) expect(line).toContain('--ignore-scripts');
  });
});
