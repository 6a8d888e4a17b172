import { describe, expect, it } from 'vitest';
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
    const result = reviewContent('x'.repeat(200), 'was used was made was built was done was seen was held');
    expect(result.score).toBeGreaterThanOrEqual(0);
    expect(result.approved).toBe(false);
  });

  it('is deterministic', () => {
    const post = solidPost('queues');
    expect(reviewContent(post.title, post.content)).toEqual(reviewContent(post.title, post.content));
  });
});

describe('review (payload)', () => {
  it('names the wrong field', () => {
    expect(() => review({ title: 'T' })).toThrow('payload.content: is required');
  });
});
