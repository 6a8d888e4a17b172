import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent } from '@orchestrator/agent-sdk';
import type { DemoAgentOptions } from './llm.agent.js';
import { requireObject, requireString, type Fields } from './payload.js';

/** A file name from a title: lower-case letters, digits and dashes only, so no path can be formed. */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return slug || 'post';
}

/** The file name, without extension, of a post: its slug and a short hash of both documents. */
export function publicationName(title: string, markdown: string, html: string): string {
  const hash = createHash('sha256').update(markdown).update('\0').update(html).digest('hex').slice(0, 12);
  return `${slugify(title)}-${hash}`;
}

export interface Publication {
  location: string;
  markdown_location: string;
  url: string;
  published_at: string;
  bytes: number;
}

/**
 * Writes the post's HTML and Markdown into `dir` (created if missing). The same content always
 * lands in the same files, so publishing twice is harmless; each file is written whole or not at all.
 */
export async function publish(dir: string, title: string, markdown: string, html: string, now = new Date()): Promise<Publication> {
  const folder = resolve(dir);
  await mkdir(folder, { recursive: true });
  const base = publicationName(title, markdown, html);
  const location = join(folder, `${base}.html`);
  const markdownLocation = join(folder, `${base}.md`);
  await writeWhole(location, html);
  await writeWhole(markdownLocation, markdown);
  return {
    location,
    markdown_location: markdownLocation,
    url: pathToFileURL(location).href,
    published_at: now.toISOString(),
    bytes: Buffer.byteLength(html),
  };
}

async function writeWhole(path: string, text: string): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(temporary, text, 'utf8');
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Reads and checks a `publish_content` payload and publishes it into `dir`. */
export async function publishFromPayload(dir: string, payload: Fields): Promise<Publication> {
  const documents = requireObject(payload, 'documents');
  return await publish(
    dir,
    requireString(payload, 'title', 1_000),
    requireString(documents, 'markdown', 5_000_000, 'payload.documents'),
    requireString(documents, 'html', 5_000_000, 'payload.documents'),
  );
}

export interface CommunicationAgentOptions extends DemoAgentOptions {
  /** Folder the posts are written to; relative paths are taken from the working directory. */
  publishDir: string;
}

export function createCommunicationAgent({ publishDir, ...options }: CommunicationAgentOptions): Agent {
  return new Agent({ ...options, name: 'communication_agent', agentType: 'publisher' }).handle('publish_content', (payload) =>
    publishFromPayload(publishDir, payload),
  );
}
