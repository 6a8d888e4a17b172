import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inTwoWorlds } from '../../../test/support/determinism.js';
import { publishFromPayload } from './communication.agent.js';
import { exportFromPayload } from './drafting.agent.js';
import { enhance } from './enhancement.agent.js';
import { review } from './examination.agent.js';
import { generateContent } from './llm.agent.js';

/** The steps of create_blog_post, each fed as workflows/create_blog_post.yaml wires it. */
function runSteps(topic: string): {
  draft: ReturnType<typeof generateContent>;
  enhanced: ReturnType<typeof enhance>;
  reviewed: ReturnType<typeof review>;
  exported: ReturnType<typeof exportFromPayload>;
} {
  const draft = generateContent({ topic, audience: 'general readers', tone: 'informative' });
  const enhanced = enhance({ title: draft.title, content: draft.content });
  const reviewed = review({ title: enhanced.title, content: enhanced.content });
  const exported = exportFromPayload({ title: enhanced.title, content: enhanced.content, review: { ...reviewed } });
  return { draft, enhanced, reviewed, exported };
}

describe('the create_blog_post steps', () => {
  it('are deterministic from draft to export: the same whatever the clock and Math.random say', () => {
    const [first, second] = inTwoWorlds(() => runSteps('event sourcing'));
    expect(first).toEqual(second);
  });

  it('publish a page holding the topic and the review score', async () => {
    const { exported, reviewed } = runSteps('Topic number 3 & <friends>');
    const published = await publishFromPayload(mkdtempSync(join(tmpdir(), 'pipeline-')), { title: exported.title, documents: { ...exported.documents } });
    const html = readFileSync(published.location, 'utf8');
    expect(html).toContain('Topic number 3 &amp; &lt;friends&gt;');
    expect(html).toContain(`Review score: ${reviewed.score}/100`);
    expect(reviewed.approved).toBe(true);
  });
});
