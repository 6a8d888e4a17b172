import { describe, expect, it } from 'vitest';
import { inTwoWorlds } from '../../../test/support/determinism.js';
import { enhance, enhanceContent } from './enhancement.agent.js';
import { generateDraft } from './llm.agent.js';

describe('enhanceContent', () => {
  it('normalises headings, adds a summary and key takeaways', () => {
    const enhanced = enhanceContent('T', '# T\n\n##Intro\n\ntext\n\n## Next ##\n\nmore');
    expect(enhanced.content).toBe(
      '# T\n\n> In short: T in 2 parts.\n\n## Intro\n\ntext\n\n## Next\n\nmore\n\n## Key takeaways\n\n- Intro\n- Next\n',
    );
    expect(enhanced.changes).toEqual(['normalised heading spacing', 'added key takeaways (2)', 'added a summary']);
    expect(enhanced.title).toBe('T');
  });

  it('adds the title as the only top-level heading', () => {
    const enhanced = enhanceContent('My Post', 'intro\n\n# Second\n\ntext');
    expect(enhanced.content.match(/^# .*$/gm)).toEqual(['# My Post']);
    expect(enhanced.content).toContain('## Second');
    expect(enhanced.changes).toContain('added the title as a heading');
    expect(enhanced.changes).toContain('demoted 1 extra top-level heading(s)');
  });

  it('changes nothing on its own output', () => {
    const draft = generateDraft('observability');
    const once = enhanceContent(draft.title, draft.content);
    const twice = enhanceContent(once.title, once.content);
    expect(twice.content).toBe(once.content);
    expect(twice.changes).toEqual([]);
  });

  it('is deterministic: the same whatever the clock and Math.random say', () => {
    const [first, second] = inTwoWorlds(() => {
      const draft = generateDraft('event sourcing');
      return enhanceContent(draft.title, draft.content);
    });
    expect(first).toEqual(second);
  });
});

describe('enhance (payload)', () => {
  it('names the wrong field', () => {
    expect(() => enhance({ content: 'x' })).toThrow('payload.title: is required');
    expect(() => enhance({ title: 'x', content: {} })).toThrow('payload.content: must be a string');
  });
});
