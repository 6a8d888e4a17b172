import { Agent } from '@orchestrator/agent-sdk';
import type { DemoAgentOptions } from './llm.agent.js';
import { requireBoolean, requireNumber, requireObject, requireString, type Fields } from './payload.js';

export interface ReviewSummary {
  approved: boolean;
  score: number;
}

export interface ExportedDocument {
  title: string;
  documents: { markdown: string; html: string };
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Markdown to a small, valid HTML document: headings, paragraphs, lists and quotes; all text escaped. */
export function renderHtml(title: string, markdown: string, review: ReviewSummary | null): string {
  const body: string[] = [];
  let list = false;
  for (const line of markdown.replace(/\r\n?/g, '\n').split('\n')) {
    const item = /^[-*] (.*)$/.exec(line);
    if (!item && list) {
      body.push('</ul>');
      list = false;
    }
    const heading = /^(#{1,6}) (.*)$/.exec(line);
    if (heading) {
      const level = heading[1]?.length ?? 1;
      body.push(`<h${level}>${escapeHtml(heading[2] ?? '')}</h${level}>`);
    } else if (item) {
      if (!list) body.push('<ul>');
      list = true;
      body.push(`<li>${escapeHtml(item[1] ?? '')}</li>`);
    } else if (line.startsWith('> ')) body.push(`<blockquote><p>${escapeHtml(line.slice(2))}</p></blockquote>`);
    else if (/^-{3,}$/.test(line.trim())) body.push('<hr>');
    else if (line.trim() !== '') body.push(`<p>${escapeHtml(line)}</p>`);
  }
  if (list) body.push('</ul>');
  const footer = review ? `\n<footer><p>Review score: ${review.score}/100 (${review.approved ? 'approved' : 'not approved'})</p></footer>` : '';
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    '</head>',
    '<body>',
    '<article>',
    ...body,
    `</article>${footer}`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The post as a Markdown file and an HTML page, both ending with the review's score. */
export function exportDocument(title: string, content: string, review: ReviewSummary): ExportedDocument {
  const verdict = review.approved ? 'approved' : 'not approved';
  const markdown = `${content.trimEnd()}\n\n---\n\n_Review score: ${review.score}/100 (${verdict})_\n`;
  return { title, documents: { markdown, html: renderHtml(title, content, review) } };
}

/** Reads and checks an `export_document` payload. */
export function exportFromPayload(payload: Fields): ExportedDocument {
  const review = requireObject(payload, 'review');
  return exportDocument(requireString(payload, 'title', 1_000), requireString(payload, 'content'), {
    approved: requireBoolean(review, 'approved', 'payload.review'),
    score: requireNumber(review, 'score', 0, 100, 'payload.review'),
  });
}

/** One Markdown document from drafted sections (`{ title, content }` each), in order. */
export function mergeSections(title: string, sections: unknown): { title: string; content: string; sections: number } {
  if (!Array.isArray(sections) || sections.length === 0) throw new Error('payload.sections: must be a non-empty list');
  const parts = sections.map((section: unknown, i) => {
    const s = (typeof section === 'object' && section !== null ? section : {}) as Fields;
    if (typeof s['title'] !== 'string' || typeof s['content'] !== 'string') throw new Error(`payload.sections[${i}]: must have a title and a content`);
    return `## ${s['title']}\n\n${s['content'].replace(/^# .*\n+/, '')}`;
  });
  return { title, content: [`# ${title}`, ...parts].join('\n\n'), sections: sections.length };
}

export function createDraftingAgent(options: DemoAgentOptions): Agent {
  return new Agent({ ...options, name: 'drafting_agent', agentType: 'drafter' })
    .handle('export_document', (payload) => exportFromPayload(payload))
    .handle('merge_sections', (payload) => mergeSections(requireString(payload, 'title', 1_000), payload['sections']));
}
