/** The five agents of create_blog_post: each answers with what the next step's input needs to resolve. */
export interface BlogPostAgent {
  name: string;
  taskType: string;
  result: Record<string, unknown>;
}

export const BLOG_POST_AGENTS: readonly BlogPostAgent[] = [
  { name: 'llm_agent', taskType: 'generate_content', result: { title: 'T', content: 'C', word_count: 1 } },
  { name: 'enhancement_agent', taskType: 'enhance_content', result: { title: 'T', content: 'C', changes: [] } },
  { name: 'examination_agent', taskType: 'review_content', result: { approved: true, score: 100, findings: [] } },
  { name: 'drafting_agent', taskType: 'export_document', result: { title: 'T', documents: { markdown: 'm', html: 'h' } } },
  {
    name: 'communication_agent',
    taskType: 'publish_content',
    result: { location: '/dev/null', url: 'file:///dev/null', markdown_location: '/dev/null', published_at: '', bytes: 0 },
  },
];

/** Handlers running at once that each agent of the bench announces: more than any run sends. */
export const BENCH_AGENT_CONCURRENCY = 100_000;
