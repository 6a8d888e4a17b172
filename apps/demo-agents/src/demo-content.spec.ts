import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publish, slugify } from './communication.agent.js';
import { loadDemoConfig } from './demo-config.js';
import { escapeHtml, exportDocument, mergeSections } from './drafting.agent.js';
import { enhanceContent } from './enhancement.agent.js';
import { reviewContent } from './examination.agent.js';
import { generateDraft, planTask } from './llm.agent.js';
import { requireString } from './payload.js';

describe('the demo pipeline', () => {
  it('is deterministic from draft to export', () => {
    const run = () => {
      const draft = generateDraft('event sourcing');
      const enhanced = enhanceContent(draft.title, draft.content);
      const review = reviewContent(enhanced.title, enhanced.content);
      return { draft, enhanced, review, exported: exportDocument(enhanced.title, enhanced.content, { ...review }) };
    };
    expect(run()).toEqual(run());
  });

  it('drafts several sections from the topic', () => {
    const draft = generateDraft('event sourcing', 'engineers', 'friendly');
    expect(draft.title).toBe('Event Sourcing');
    expect(draft.content.match(/^## /gm)).toHaveLength(3);
    expect(draft.content).toContain('for engineers, in an friendly tone');
    expect(draft.word_count).toBeGreaterThan(80);
  });

  it('enhances with a summary and key takeaways, without breaking headings', () => {
    const enhanced = enhanceContent('T', '# T\n\n##Intro\n\ntext\n\n## Next\n\nmore');
    expect(enhanced.content).toContain('## Intro');
    expect(enhanced.content).not.toContain('# #');
    expect(enhanced.content).toContain('## Key takeaways\n\n- Intro\n- Next');
    expect(enhanced.content).toContain('> In short: T in 2 parts.');
    expect(enhanced.changes).toEqual(['normalised heading spacing', 'added key takeaways (2)', 'added a summary']);
  });

  it('rejects a short post in review and approves the generated one', () => {
    expect(reviewContent('T', 'Too short.')).toMatchObject({ approved: false });
    const draft = generateDraft('caching');
    const review = reviewContent(draft.title, enhanceContent(draft.title, draft.content).content);
    expect(review.approved).toBe(true);
    expect(review.score).toBeGreaterThanOrEqual(60);
  });

  it('escapes HTML from the content and the title', () => {
    const { documents } = exportDocument('<script>', '# <b>x</b>\n\n"quoted" & \'single\'', { score: 70 });
    expect(documents.html).toContain('<title>&lt;script&gt;</title>');
    expect(documents.html).toContain('<h1>&lt;b&gt;x&lt;/b&gt;</h1>');
    expect(documents.html).toContain('&quot;quoted&quot; &amp; &#39;single&#39;');
    expect(documents.html).toContain('<footer>Review score: 70/100</footer>');
    expect(escapeHtml('<>')).toBe('&lt;&gt;');
  });
});

describe('planning research_report', () => {
  it('drafts each sub-topic in parallel and merges them in order', () => {
    const plan = planTask({ task_type: 'research_report', payload: { topic: 'Caching', subtopics: ['One', 'Two'] } }) as {
      steps: { id: string; depends_on?: string[]; input: unknown }[];
    };
    expect(plan.steps.map((s) => s.id)).toEqual(['part_1', 'part_2', 'merge']);
    expect(plan.steps[2]).toMatchObject({ depends_on: ['part_1', 'part_2'], input: { sections: [{ $ref: 'steps.part_1.result' }, { $ref: 'steps.part_2.result' }] } });
    expect(() => planTask({ task_type: 'other', payload: {} })).toThrow('llm_agent has no plan for task_type other');
  });

  it('merges sections into one document', () => {
    const merged = mergeSections('Report', [generateDraft('first part'), generateDraft('second part')]);
    expect(merged.sections).toBe(2);
    expect(merged.content.startsWith('# Report\n\n## First Part\n\n')).toBe(true);
    expect(merged.content).toContain('## Second Part');
    expect(() => mergeSections('Report', [])).toThrow('payload.sections: must be a non-empty list');
  });
});

describe('publishing', () => {
  it.each([
    ['../../etc/passwd', 'etc-passwd'],
    ['Hello, World!', 'hello-world'],
    ['////', 'post'],
    ['Ünïcödé tïtle', 'unicode-title'],
  ])('slugifies %j to %j', (title, slug) => expect(slugify(title)).toBe(slug));

  it('writes both documents inside the folder, whatever the title', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'publish-'));
    const result = await publish(dir, '../../escape', '# md', '<html></html>', new Date('2026-01-01T00:00:00Z'));
    expect(dirname(result.location)).toBe(dir);
    expect(dirname(result.markdown_location)).toBe(dir);
    expect(readFileSync(result.location, 'utf8')).toBe('<html></html>');
    expect(result).toMatchObject({ published_at: '2026-01-01T00:00:00.000Z', bytes: 13, url: `file://${result.location}` });
  });
});

describe('payload checks and configuration', () => {
  it('names the wrong field', () => {
    expect(() => requireString({}, 'topic')).toThrow('payload.topic: is required');
    expect(() => requireString({ topic: 1 }, 'topic')).toThrow('payload.topic: must be a string');
    expect(() => requireString({ topic: 'x'.repeat(501) }, 'topic', 500)).toThrow('payload.topic: must be at most 500 characters');
  });

  it('reads the environment once and refuses unknown agents', () => {
    expect(loadDemoConfig({ AGENTS: 'llm_agent, drafting_agent', HEARTBEAT_INTERVAL_MS: '250' })).toMatchObject({
      agents: ['llm_agent', 'drafting_agent'],
      heartbeatIntervalMs: 250,
    });
    expect(() => loadDemoConfig({ AGENTS: 'a.>' })).toThrow('AGENTS: unknown demo agent "a.>"');
    expect(() => loadDemoConfig({ MAX_CONCURRENCY: '0' })).toThrow('MAX_CONCURRENCY must be a positive integer');
  });
});
