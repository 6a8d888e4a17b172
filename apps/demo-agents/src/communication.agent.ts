import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent, type AgentOptions } from '@orchestrator/agent-sdk';
import { requireObject, requireString } from './payload.js';

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

export interface Publication {
  location: string;
  markdown_location: string;
  url: string;
  published_at: string;
  bytes: number;
}

/** Writes the post's HTML and Markdown into `dir` under a slug of its title and a hash of its content. */
export async function publish(dir: string, title: string, markdown: string, html: string, now = new Date()): Promise<Publication> {
  const folder = resolve(dir);
  await mkdir(folder, { recursive: true });
  const hash = createHash('sha256').update(markdown).update(html).digest('hex').slice(0, 10);
  const base = `${slugify(title)}-${hash}`;
  const location = join(folder, `${base}.html`);
  const markdownLocation = join(folder, `${base}.md`);
  await writeFile(location, html, 'utf8');
  await writeFile(markdownLocation, markdown, 'utf8');
  return {
    location,
    markdown_location: markdownLocation,
    url: pathToFileURL(location).href,
    published_at: now.toISOString(),
    bytes: Buffer.byteLength(html),
  };
}

export function createCommunicationAgent(options: Omit<AgentOptions, 'name' | 'agentType'>, publishDir: string): Agent {
  return new Agent({ ...options, name: 'communication_agent', agentType: 'publisher' }).handle('publish_content', async (payload) => {
    const documents = requireObject(payload, 'documents');
    return {
      ...(await publish(
        publishDir,
        requireString(payload, 'title', 1_000),
        requireString(documents, 'markdown'),
        requireString(documents, 'html'),
      )),
    };
  });
}
