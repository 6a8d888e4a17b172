import { Agent, type AgentOptions } from '@orchestrator/agent-sdk';
import { optionalString, requireString } from './payload.js';

export interface Draft {
  title: string;
  content: string;
  word_count: number;
}

function titleCase(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/\b\p{L}/gu, (c) => c.toUpperCase());
}

export function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

/** A deterministic first draft: the same topic, audience and tone always give the same post. */
export function generateDraft(topic: string, audience = 'general readers', tone = 'informative'): Draft {
  const subject = topic.replace(/\s+/g, ' ').trim();
  const title = titleCase(subject);
  const content = [
    `# ${title}`,
    '',
    `This post is written for ${audience}, in an ${tone} tone. It explains what ${subject} is, why it matters and how to start with it.`,
    '',
    `## What ${subject} is`,
    '',
    `${subject} is a topic that is often mentioned and rarely explained. At its core it is about a few simple ideas that fit together.`,
    '',
    `## Why ${subject} matters`,
    '',
    `Teams that understand ${subject} make decisions faster and with fewer surprises. The benefits grow as the work grows.`,
    '',
    `## How to get started`,
    '',
    `Start small: pick one problem where ${subject} helps, try it, measure the result and share what was learned.`,
  ].join('\n');
  return { title, content, word_count: countWords(content) };
}

export function createLlmAgent(options: Omit<AgentOptions, 'name' | 'agentType'>): Agent {
  return new Agent({ ...options, name: 'llm_agent', agentType: 'llm' }).handle('generate_content', (payload) =>
    Promise.resolve({
      ...generateDraft(
        requireString(payload, 'topic', 500),
        optionalString(payload, 'audience', 'general readers'),
        optionalString(payload, 'tone', 'informative'),
      ),
    }),
  );
}
