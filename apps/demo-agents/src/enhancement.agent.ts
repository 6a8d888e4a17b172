import { Agent, type AgentOptions } from '@orchestrator/agent-sdk';
import { requireString } from './payload.js';

export interface Enhanced {
  title: string;
  content: string;
  changes: string[];
}

/** Normalises headings, adds a summary and a "Key takeaways" list drawn from the sections. */
export function enhanceContent(title: string, content: string): Enhanced {
  const changes: string[] = [];
  let lines = content.split('\n').map((line) => line.replace(/\s+$/, ''));
  const normalised = lines.map((line) => line.replace(/^(#{1,6})([^#\s])/, '$1 $2'));
  if (normalised.some((line, i) => line !== lines[i])) changes.push('normalised heading spacing');
  lines = normalised;
  const headings = lines.filter((line) => line.startsWith('## ')).map((line) => line.slice(3));
  if (!lines.some((line) => line.toLowerCase() === '## key takeaways')) {
    lines.push('', '## Key takeaways', '', ...headings.map((heading) => `- ${heading}`));
    changes.push(`added key takeaways (${headings.length})`);
  }
  if (!lines.some((line) => line.startsWith('> '))) {
    const at = lines.findIndex((line) => line.startsWith('# '));
    lines.splice(at + 1, 0, '', `> In short: ${title} in ${headings.length} parts.`);
    changes.push('added a summary');
  }
  return { title, content: lines.join('\n').replace(/\n{3,}/g, '\n\n'), changes };
}

export function createEnhancementAgent(options: Omit<AgentOptions, 'name' | 'agentType'>): Agent {
  return new Agent({ ...options, name: 'enhancement_agent', agentType: 'utility' }).handle('enhance_content', (payload) =>
    Promise.resolve({ ...enhanceContent(requireString(payload, 'title', 1_000), requireString(payload, 'content')) }),
  );
}
