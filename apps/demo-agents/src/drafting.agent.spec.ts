import { describe, expect, it } from 'vitest';
import { inTwoWorlds } from '../../../test/support/determinism.js';
import { escapeHtml, exportDocument, exportFromPayload, mergeSections, renderHtml } from './drafting.agent.js';
import { generateDraft } from './llm.agent.js';

const review = { approved: true, score: 70, findings: [] };

/** Every opened element is closed, in order (void elements aside). */
function balanced(html: string): boolean {
  const stack: string[] = [];
  for (const [, closing, name] of html.matchAll(/<(\/?)([a-z][a-z0-9]*)\b[^>]*>/g)) {
    if (!name || ['meta', 'hr', 'br'].includes(name)) continue;
    if (!closing) stack.push(name);
    else if (stack.pop() !== name) return false;
  }
  return stack.length === 0;
}

describe('escapeHtml', () => {
  it('escapes the five special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('exportDocument', () => {
  it('escapes HTML from the content and the title', () => {
    const { documents } = exportDocument('<script>alert(1)</script>', '# <b>x</b>\n\n"quoted" & \'single\'\n\n- <img src=x onerror=y>', review);
    expect(documents.html).toContain('<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(documents.html).toContain('<h1>&lt;b&gt;x&lt;/b&gt;</h1>');
    expect(documents.html).toContain('<p>&quot;quoted&quot; &amp; &#39;single&#39;</p>');
    expect(documents.html).toContain('<li>&lt;img src=x onerror=y&gt;</li>');
    expect(documents.html).not.toMatch(/<(?:script|b|img)\b/);
  });

  it('renders a minimal valid document with the review score in a footer', () => {
    const draft = generateDraft('caching');
    const { title, documents } = exportDocument(draft.title, `${draft.content}\n\n> summary\n\n---`, { approved: false, score: 55 });
    expect(title).toBe('Caching');
    expect(documents.html.startsWith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')).toBe(true);
    expect(documents.html).toContain('<footer><p>Review score: 55/100 (not approved)</p></footer>');
    expect(documents.html).toContain('<ul>\n<li>caching</li>\n</ul>');
    expect(documents.html).toContain('<blockquote><p>summary</p></blockquote>');
    expect(balanced(documents.html)).toBe(true);
    expect(documents.markdown.startsWith(draft.content)).toBe(true);
    expect(documents.markdown.endsWith('_Review score: 55/100 (not approved)_\n')).toBe(true);
  });

  it('is deterministic: the same whatever the clock and Math.random say', () => {
    const draft = generateDraft('queues');
    const [first, second] = inTwoWorlds(() => exportDocument(draft.title, draft.content, review));
    expect(first).toEqual(second);
  });

  it('leaves the footer out without a review', () => {
    expect(renderHtml('T', 'text', null)).not.toContain('<footer>');
  });
});

describe('exportFromPayload', () => {
  it('reads title, content and review', () => {
    expect(exportFromPayload({ title: 'T', content: 'c', review }).documents.html).toContain('Review score: 70/100 (approved)');
  });

  it.each([
    [{ content: 'c', review }, 'payload.title: is required'],
    [{ title: 'T', content: 'c' }, 'payload.review: is required'],
    [{ title: 'T', content: 'c', review: [] }, 'payload.review: must be an object'],
    [{ title: 'T', content: 'c', review: { approved: true } }, 'payload.review.score: is required'],
    [{ title: 'T', content: 'c', review: { approved: true, score: '70' } }, 'payload.review.score: must be a number'],
    [{ title: 'T', content: 'c', review: { approved: true, score: 170 } }, 'payload.review.score: must be from 0 to 100'],
    [{ title: 'T', content: 'c', review: { approved: 'yes', score: 70 } }, 'payload.review.approved: must be true or false'],
  ])('rejects %j', (payload, error) => {
    expect(() => exportFromPayload(payload)).toThrow(error);
  });
});

describe('mergeSections', () => {
  it('merges drafted sections into one document, in order', () => {
    const merged = mergeSections('Report', [generateDraft('first part'), generateDraft('second part')]);
    expect(merged.sections).toBe(2);
    expect(merged.content.startsWith('# Report\n\n## First Part\n\n')).toBe(true);
    expect(merged.content.indexOf('## Second Part')).toBeGreaterThan(merged.content.indexOf('## First Part'));
  });

  it('names what is wrong with the sections', () => {
    expect(() => mergeSections('Report', [])).toThrow('payload.sections: must be a non-empty list');
    expect(() => mergeSections('Report', [{ title: 'x' }])).toThrow('payload.sections[0]: must have a title and a content');
  });
});
