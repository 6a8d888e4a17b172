import { describe, expect, it } from 'vitest';
import { inTwoWorlds } from '../../../test/support/determinism.js';
import { countWords, generateContent, generateDraft, keyTermsOf, MAX_TITLE_LENGTH, planTask, titleFor } from './llm.agent.js';

describe('generateDraft', () => {
  it('gives the same draft for the same input, whatever the clock and Math.random say', () => {
    const [first, second] = inTwoWorlds(() => generateDraft('event sourcing', 'engineers', 'friendly'));
    expect(first).toEqual(second);
  });

  it('drafts a titled Markdown post with several sections derived from the topic', () => {
    const draft = generateDraft('event sourcing', 'engineers', 'friendly');
    expect(draft.title).toBe('Event Sourcing');
    expect(draft.content.startsWith('# Event Sourcing\n')).toBe(true);
    expect(draft.content.match(/^## .*$/gm)).toEqual(['## What event sourcing is', '## Why event sourcing matters', '## How to get started']);
    expect(draft.content).toContain('for engineers, in a friendly tone');
    expect(draft.content).toContain('- event\n- sourcing');
    expect(draft.word_count).toBe(countWords(draft.content));
    expect(draft.word_count).toBeGreaterThan(80);
  });

  it('words the post differently for different topics', () => {
    const bodies = ['caching', 'event sourcing', 'rust', 'kubernetes', 'testing', 'gardening'].map((topic) =>
      generateDraft(topic).content.replaceAll(topic, 'X').replace(/^(?:# |- ).*$/gm, ''),
    );
    expect(new Set(bodies).size).toBeGreaterThan(1);
  });

  it('uses "an" before a vowel', () => {
    expect(generateDraft('x', 'readers', 'informative').content).toContain('in an informative tone');
  });

  it('keeps the title short for a long topic, and the whole topic in the text', () => {
    const topic = `${'distributed systems and their failure modes '.repeat(11)}end`.slice(0, 500);
    const draft = generateDraft(topic);
    expect(draft.title.length).toBeLessThanOrEqual(MAX_TITLE_LENGTH);
    expect(draft.title.endsWith('…')).toBe(true);
    expect(draft.content).toContain(topic.trim());
  });

  it('keeps a topic on one line, so it cannot add headings', () => {
    const draft = generateDraft('one\n## injected\ntwo');
    expect(draft.content.match(/^## .*$/gm)).toHaveLength(3);
  });
});

describe('titleFor and keyTermsOf', () => {
  it('capitalises words and collapses spaces', () => {
    expect(titleFor('  the   art of ünit tests ')).toBe('The Art Of Ünit Tests');
  });

  it('lists up to five distinct longer words', () => {
    expect(keyTermsOf('What is caching, and caching with Redis? Also TTLs, eviction, warmup, sharding, replication')).toEqual([
      'caching',
      'redis',
      'ttls',
      'eviction',
      'warmup',
    ]);
  });
});

describe('generateContent (payload)', () => {
  it('reads topic, audience and tone with defaults', () => {
    expect(generateContent({ topic: 'caching' })).toEqual(generateDraft('caching', 'general readers', 'informative'));
    expect(generateContent({ topic: 'caching', audience: 'ops', tone: 'dry' }).content).toContain('for ops, in a dry tone');
  });

  it('accepts a topic of 500 characters and names the field when the payload is wrong', () => {
    expect(generateContent({ topic: 'a'.repeat(500) }).title.length).toBeLessThanOrEqual(MAX_TITLE_LENGTH);
    expect(() => generateContent({})).toThrow('payload.topic: is required');
    expect(() => generateContent({ topic: 7 })).toThrow('payload.topic: must be a string');
    expect(() => generateContent({ topic: '  ' })).toThrow('payload.topic: must not be empty');
    expect(() => generateContent({ topic: 'a'.repeat(501) })).toThrow('payload.topic: must be at most 500 characters');
    expect(() => generateContent({ topic: 'x', tone: ['loud'] })).toThrow('payload.tone: must be a string');
  });
});

describe('planTask (research_report)', () => {
  it('drafts each sub-topic in parallel and merges them in order', () => {
    const plan = planTask({ task_type: 'research_report', payload: { topic: 'Caching', subtopics: ['One', 'Two'] } }) as {
      steps: { id: string; depends_on?: string[]; input: unknown }[];
    };
    expect(plan.steps.map((s) => s.id)).toEqual(['part_1', 'part_2', 'merge']);
    expect(plan.steps[0]).toMatchObject({ input: { topic: 'Caching: One' } });
    expect(plan.steps[2]).toMatchObject({
      depends_on: ['part_1', 'part_2'],
      input: { sections: [{ $ref: 'steps.part_1.result' }, { $ref: 'steps.part_2.result' }] },
    });
  });

  it('has no plan for other task types', () => {
    expect(() => planTask({ task_type: 'other', payload: {} })).toThrow('llm_agent has no plan for task_type other');
  });
});
