import { createHash } from 'node:crypto';
import { Agent, type AgentOptions } from '@orchestrator/agent-sdk';
import { optionalString, requireObject, requireString, type Fields } from './payload.js';

export type DemoAgentOptions = Omit<AgentOptions, 'name' | 'agentType'>;

export interface Draft {
  title: string;
  content: string;
  word_count: number;
}

export const MAX_TOPIC_LENGTH = 500;
export const MAX_TITLE_LENGTH = 120;

export function countWords(text: string): number {
  return text.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
}

/** A title from a topic: capitalised words, cut at a word boundary when the topic is long. */
export function titleFor(topic: string): string {
  const title = topic.replace(/\s+/g, ' ').trim().replace(/(^|\s)(\p{L})/gu, (_m, space: string, c: string) => space + c.toUpperCase());
  if (title.length <= MAX_TITLE_LENGTH) return title;
  const cut = title.slice(0, MAX_TITLE_LENGTH - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > MAX_TITLE_LENGTH / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, '')}…`;
}

/** The words of a topic worth a bullet each: longer than three letters, first occurrence, at most five. */
export function keyTermsOf(topic: string): string[] {
  const seen = new Set<string>();
  for (const word of topic.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'-]*/gu) ?? []) {
    if (word.length > 3 && !STOP_WORDS.has(word)) seen.add(word);
    if (seen.size === 5) break;
  }
  return [...seen];
}

const STOP_WORDS = new Set(['about', 'after', 'also', 'from', 'have', 'into', 'more', 'than', 'that', 'their', 'them', 'then', 'there', 'these', 'they', 'this', 'what', 'when', 'where', 'which', 'with', 'your']);

const OPENINGS = [
  (s: string) => `Few subjects come up as often as ${s}, and few are explained as rarely.`,
  (s: string) => `Many teams meet ${s} long before they have a name for it.`,
  (s: string) => `Ask three people about ${s} and you will hear three different stories.`,
];

const CLOSINGS = [
  'Pick one small problem, try the idea on it, measure the result and share what you learn.',
  'Begin with one narrow case, write down what you expect, and compare it with what happens.',
  'Choose a single use, keep notes as you go, and review them with your team after a week.',
];

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/** A deterministic first draft: the same topic, audience and tone always give the same post. */
export function generateDraft(topic: string, audience = 'general readers', tone = 'informative'): Draft {
  const subject = topic.replace(/\s+/g, ' ').trim();
  const title = titleFor(subject);
  const variant = createHash('sha256').update(subject.toLowerCase()).digest()[0] ?? 0;
  const terms = keyTermsOf(subject);
  const lines = [
    `# ${title}`,
    '',
    `This post is written for ${audience}, in ${article(tone)} ${tone} tone. It explains what ${subject} is, why it matters and how to start with it.`,
    '',
    `## What ${subject} is`,
    '',
    `${OPENINGS[variant % OPENINGS.length]?.(subject) ?? ''} At its core it rests on a few simple ideas that fit together.`,
  ];
  if (terms.length > 0) lines.push('', 'The ideas to keep in mind:', '', ...terms.map((term) => `- ${term}`));
  lines.push(
    '',
    `## Why ${subject} matters`,
    '',
    `Teams that understand ${subject} make decisions faster and with fewer surprises. The benefits grow as the work grows.`,
    '',
    '## How to get started',
    '',
    CLOSINGS[(variant >> 2) % CLOSINGS.length] ?? '',
  );
  const content = lines.join('\n');
  return { title, content, word_count: countWords(content) };
}

/** Reads and checks a `generate_content` payload. */
export function generateContent(payload: Fields): Draft {
  return generateDraft(
    requireString(payload, 'topic', MAX_TOPIC_LENGTH),
    optionalString(payload, 'audience', 'general readers', 200),
    optionalString(payload, 'tone', 'informative', 50),
  );
}

export function createLlmAgent(options: DemoAgentOptions): Agent {
  return new Agent({ ...options, name: 'llm_agent', agentType: 'llm' })
    .handle('generate_content', (payload, ctx) => {
      // A draft is written at once here; a real model would report as it goes.
      ctx.progress(0, 'drafting');
      const draft = generateContent(payload);
      ctx.progress(1, `drafted ${draft.word_count} words`);
      return draft;
    })
    .handle('plan_task', (payload) => ({ plan: planTask(requireObject(payload, 'request')) }));
}

const RESEARCH_PARTS = ['Background', 'Current state', 'Open questions'];

/**
 * A rule-based planner: for `research_report` (payload `{ topic, subtopics? }`), one draft per
 * sub-topic in parallel, then one step merging them. Other task types have no plan.
 */
export function planTask(request: Fields): Fields {
  const taskType = request['task_type'];
  const payload = (request['payload'] ?? {}) as Fields;
  if (taskType !== 'research_report') throw new Error(`llm_agent has no plan for task_type ${String(taskType)}`);
  const topic = requireString(payload, 'topic', 300);
  const subtopics = Array.isArray(payload['subtopics']) && payload['subtopics'].every((s) => typeof s === 'string') ? payload['subtopics'].slice(0, 8).map((s: string) => s.slice(0, 150)) : RESEARCH_PARTS;
  const parts = subtopics.map((subtopic, i) => ({
    id: `part_${i + 1}`,
    agent: 'llm_agent',
    task_type: 'generate_content',
    input: { topic: `${topic}: ${subtopic}` },
  }));
  return {
    description: `Research report on ${topic}, planned at run time`,
    defaults: { timeout_ms: 20_000, max_attempts: 3 },
    steps: [
      ...parts,
      {
        id: 'merge',
        capability: 'merge_sections',
        depends_on: parts.map((part) => part.id),
        input: { title: `Research report: ${topic}`, sections: parts.map((part) => ({ $ref: `steps.${part.id}.result` })) },
      },
    ],
    output: { title: { $ref: 'steps.merge.result.title' }, content: { $ref: 'steps.merge.result.content' }, sections: { $ref: 'steps.merge.result.sections' } },
  };
}
