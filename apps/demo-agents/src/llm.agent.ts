import { Agent, type AgentOptions } from '@orchestrator/agent-sdk';
import { optionalString, requireObject, requireString } from './payload.js';

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
  return new Agent({ ...options, name: 'llm_agent', agentType: 'llm' })
    .handle('generate_content', (payload) =>
      Promise.resolve({
        ...generateDraft(
          requireString(payload, 'topic', 500),
          optionalString(payload, 'audience', 'general readers'),
          optionalString(payload, 'tone', 'informative'),
        ),
      }),
    )
    .handle('plan_task', (payload) => Promise.resolve({ plan: planTask(requireObject(payload, 'request')) }));
}

const RESEARCH_PARTS = ['Background', 'Current state', 'Open questions'];

/**
 * A rule-based planner: for `research_report` (payload `{ topic, subtopics? }`), one draft per
 * sub-topic in parallel, then one step merging them. Other task types have no plan.
 */
export function planTask(request: Record<string, unknown>): Record<string, unknown> {
  const taskType = request['task_type'];
  const payload = (request['payload'] ?? {}) as Record<string, unknown>;
  if (taskType !== 'research_report') throw new Error(`llm_agent has no plan for task_type ${String(taskType)}`);
  const topic = requireString(payload, 'topic', 300);
  const subtopics = Array.isArray(payload['subtopics']) && payload['subtopics'].every((s) => typeof s === 'string') ? (payload['subtopics']).slice(0, 8) : RESEARCH_PARTS;
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
