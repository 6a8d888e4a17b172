import { Agent } from '@orchestrator/agent-sdk';
import type { DemoAgentOptions } from './llm.agent.js';
import { requireString, type Fields } from './payload.js';

export interface Enhanced {
  title: string;
  content: string;
  changes: string[];
}

const KEY_TAKEAWAYS = '## Key takeaways';

/**
 * Improves a post without changing what it says: one `# title` heading at the top, headings
 * spaced and without closing hashes, a one-line summary under the title and a "Key takeaways"
 * list of the sections. Running it on its own output changes nothing.
 */
export function enhanceContent(title: string, content: string): Enhanced {
  const changes: string[] = [];
  let lines = content.replace(/\r\n?/g, '\n').split('\n').map((line) => line.replace(/\s+$/, ''));

  const spaced = lines.map((line) => line.replace(/^(#{1,6})([^#\s])/, '$1 $2').replace(/^(#{1,6} .*?)\s+#+$/, '$1'));
  if (spaced.some((line, i) => line !== lines[i])) changes.push('normalised heading spacing');
  lines = spaced;

  const firstLine = lines.find((line) => line.trim() !== '');
  if (!firstLine?.startsWith('# ')) {
    lines.unshift(`# ${title}`, '');
    changes.push('added the title as a heading');
  }
  let demoted = 0;
  let seenH1 = false;
  lines = lines.map((line) => {
    if (!line.startsWith('# ')) return line;
    if (!seenH1) {
      seenH1 = true;
      return line;
    }
    demoted += 1;
    return `#${line}`;
  });
  if (demoted > 0) changes.push(`demoted ${demoted} extra top-level heading(s)`);

  const sections = lines.filter((line) => line.startsWith('## ') && line !== KEY_TAKEAWAYS).map((line) => line.slice(3));
  if (!lines.some((line) => line.toLowerCase() === KEY_TAKEAWAYS.toLowerCase())) {
    lines.push('', KEY_TAKEAWAYS, '', ...(sections.length > 0 ? sections.map((s) => `- ${s}`) : [`- ${title}`]));
    changes.push(`added key takeaways (${Math.max(sections.length, 1)})`);
  }
  if (!lines.some((line) => line.startsWith('> '))) {
    const at = lines.findIndex((line) => line.startsWith('# '));
    const parts = sections.length === 1 ? '1 part' : `${sections.length} parts`;
    lines.splice(at + 1, 0, '', `> In short: ${title.replace(/\s+/g, ' ')} in ${parts}.`);
    changes.push('added a summary');
  }
  return { title, content: `${lines.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`, changes };
}

/** Reads and checks an `enhance_content` payload. */
export function enhance(payload: Fields): Enhanced {
  return enhanceContent(requireString(payload, 'title', 1_000), requireString(payload, 'content'));
}

export function createEnhancementAgent(options: DemoAgentOptions): Agent {
  return new Agent({ ...options, name: 'enhancement_agent', agentType: 'utility' }).handle('enhance_content', (payload) => enhance(payload));
}
