import { Agent, type AgentOptions } from '@orchestrator/agent-sdk';
import { requireObject, requireString } from './payload.js';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Markdown to a small, valid HTML document: headings, paragraphs, lists and quotes; everything escaped. */
export function renderHtml(title: string, markdown: string, score: number | null): string {
  const body: string[] = [];
  let list = false;
  for (const line of markdown.split('\n')) {
    const item = /^- (.*)$/.exec(line);
    if (!item && list) {
      body.push('</ul>');
      list = false;
    }
    const heading = /^(#{1,6}) (.*)$/.exec(line);
    if (heading) body.push(`<h${heading[1]?.length}>${escapeHtml(heading[2] ?? '')}</h${heading[1]?.length}>`);
    else if (item) {
      if (!list) body.push('<ul>');
      list = true;
      body.push(`<li>${escapeHtml(item[1] ?? '')}</li>`);
    } else if (line.startsWith('> ')) body.push(`<blockquote>${escapeHtml(line.slice(2))}</blockquote>`);
    else if (line.trim() !== '') body.push(`<p>${escapeHtml(line)}</p>`);
  }
  if (list) body.push('</ul>');
  const footer = score === null ? '' : `\n<footer>Review score: ${score}/100</footer>`;
  return `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${escapeHtml(title)}</title>\n</head>\n<body>\n<article>\n${body.join('\n')}\n</article>${footer}\n</body>\n</html>\n`;
}

export function exportDocument(title: string, content: string, review: Record<string, unknown>): { title: string; documents: { markdown: string; html: string } } {
  const score = typeof review['score'] === 'number' ? review['score'] : null;
  const markdown = `${content.trimEnd()}\n\n---\n\n_Review score: ${score ?? 'n/a'}/100_\n`;
  return { title, documents: { markdown, html: renderHtml(title, content, score) } };
}

/** One Markdown document from drafted sections (`{ title, content }` each), in order. */
export function mergeSections(title: string, sections: unknown): { title: string; content: string; sections: number } {
  if (!Array.isArray(sections) || sections.length === 0) throw new Error('payload.sections: must be a non-empty list');
  const parts = sections.map((section, i) => {
    const s = (section ?? {}) as Record<string, unknown>;
    if (typeof s['title'] !== 'string' || typeof s['content'] !== 'string') throw new Error(`payload.sections[${i}]: must have a title and a content`);
    return `## ${s['title']}\n\n${s['content'].replace(/^# .*\n+/, '')}`;
  });
  return { title, content: [`# ${title}`, ...parts].join('\n\n'), sections: sections.length };
}

export function createDraftingAgent(options: Omit<AgentOptions, 'name' | 'agentType'>): Agent {
  return new Agent({ ...options, name: 'drafting_agent', agentType: 'drafter' })
    .handle('export_document', (payload) =>
      Promise.resolve(
        exportDocument(requireString(payload, 'title', 1_000), requireString(payload, 'content'), requireObject(payload, 'review')),
      ),
    )
    .handle('merge_sections', (payload) => Promise.resolve(mergeSections(requireString(payload, 'title', 1_000), payload['sections'])));
}
