import { Agent, type AgentOptions } from '@orchestrator/agent-sdk';
import { countWords } from './llm.agent.js';
import { requireString } from './payload.js';

export interface Finding {
  severity: 'info' | 'warning' | 'error';
  message: string;
}

export interface Review {
  approved: boolean;
  score: number;
  findings: Finding[];
}

const PASSIVE = /\b(is|are|was|were|be|been|being)\s+\w+ed\b/gi;

/** A rule-based review: length, structure, passive voice and long sentences. */
export function reviewContent(title: string, content: string): Review {
  const findings: Finding[] = [];
  let score = 100;
  const words = countWords(content);
  if (words < 80) {
    findings.push({ severity: 'error', message: `too short: ${words} words, at least 80 expected` });
    score -= 40;
  } else {
    findings.push({ severity: 'info', message: `${words} words` });
  }
  const sections = content.split('\n').filter((line) => line.startsWith('## ')).length;
  if (sections < 2) {
    findings.push({ severity: 'warning', message: `only ${sections} section(s)` });
    score -= 15;
  }
  const passive = content.match(PASSIVE)?.length ?? 0;
  if (passive > 0) {
    findings.push({ severity: 'warning', message: `${passive} passive construction(s)` });
    score -= Math.min(20, passive * 5);
  }
  const longSentences = content.split(/[.!?]\s/).filter((s) => countWords(s) > 30).length;
  if (longSentences > 0) {
    findings.push({ severity: 'warning', message: `${longSentences} sentence(s) over 30 words` });
    score -= Math.min(20, longSentences * 5);
  }
  if (title.length > 120) {
    findings.push({ severity: 'warning', message: 'title over 120 characters' });
    score -= 5;
  }
  score = Math.max(0, score);
  return { approved: score >= 60 && !findings.some((f) => f.severity === 'error'), score, findings };
}

export function createExaminationAgent(options: Omit<AgentOptions, 'name' | 'agentType'>): Agent {
  return new Agent({ ...options, name: 'examination_agent', agentType: 'reviewer' }).handle('review_content', (payload) =>
    Promise.resolve({ ...reviewContent(requireString(payload, 'title', 1_000), requireString(payload, 'content')) }),
  );
}
