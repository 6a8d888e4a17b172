import { describe, expect, it } from 'vitest';
import { inTwoWorlds } from '../../../test/support/determinism.js';
import { enhanceContent } from './enhancement.agent.js';
import { review, reviewContent } from './examination.agent.js';
import { generateDraft } from './llm.agent.js';

const solidPost = (topic: string): { title: string; content: string } => {
  const draft = generateDraft(topic);
  return enhanceContent(draft.title, draft.content);
};

describe('reviewContent', () => {
  it.each(['caching', 'event sourcing', 'Topic number 7', 'a'])('approves the enhanced draft on %j', (topic) => {
    const post = solidPost(topic);
    const result = reviewContent(post.title, post.content);
    expect(result.approved).toBe(true);
    expect(result.score).toBeGreaterThanOrEqual(60);
    expect(result.score).toBeLessThanOrEqual(100);
  });

  it('rejects a short post with an error finding', () => {
    const result = reviewContent('T', 'Too short.');
    expect(result.approved).toBe(false);
    expect(result.findings).toContainEqual({ severity: 'error', message: 'too short: 2 words, at least 80 expected' });
    expect(result.findings).toContainEqual({ severity: 'warning', message: 'no top-level heading' });
  });

  it('finds passive constructions, filler words, long sentences and a long title', () => {
    const long = `${Array.from({ length: 35 }, (_, i) => `word${i}`).join(' ')}.`;
    const content = `# T\n\n## A\n\nThe code was reviewed and the bugs were fixed. It is very simple.\n\n## B\n\n${long}\n\n${'filler text here. '.repeat(20)}`;
    const result = reviewContent('x'.repeat(121), content);
    const messages = result.findings.map((f) => f.message);
    expect(messages).toContain('2 passive construction(s)');
    expect(messages).toContain('1 filler word(s) such as "very" or "really"');
    expect(messages).toContain('1 sentence(s) over 30 words');
    expect(messages).toContain('title over 120 characters');
    expect(result.score).toBe(100 - 10 - 2 - 5 - 5);
  });

  it('never scores below 0', () => {
    // Penalties past 100: too short (40), no heading (10), no sections (15), passive voice (20),
    // filler words (8), two long sentences (10) and a long title (5): 108 in all.
    const sentence = `It was used and was liked, really very ${'and then some more words '.repeat(5)}here.`;
    const result = reviewContent('x'.repeat(200), `${sentence} ${sentence}`);
    expect(result.findings.map((f) => f.message)).toEqual([
      'too short: 68 words, at least 80 expected',
      'no top-level heading',
      'only 0 section(s), at least 2 expected',
      '4 passive construction(s)',
      '4 filler word(s) such as "very" or "really"',
      '2 sentence(s) over 30 words',
      'title over 120 characters',
    ]);
    expect(result.score).toBe(0);
    expect(result.approved).toBe(false);
  });

  it('is deterministic: the same whatever the clock and Math.random say', () => {
    const [first, second] = inTwoWorlds(() => {
      const post = solidPost('queues');
      return reviewContent(post.title, post.content);
    });
    expect(first).toEqual(second);
  });
});

describe('review (payload)', () => {
  it('names the wrong field', () => {
    expect(() => review({ title: 'T' })).toThrow('payload.content: is required');
  });
});
