import { Agent } from '@orchestrator/agent-sdk';
import { countWords, MAX_TITLE_LENGTH, type DemoAgentOptions } from './llm.agent.js';
import { requireString, type Fields } from './payload.js';

export interface Finding {
  severity: 'info' | 'warning' | 'error';
  message: string;
}

export interface Review {
  approved: boolean;
  score: number;
  findings: Finding[];
}

export const MIN_WORDS = 80;
export const PASSING_SCORE = 60;
const PASSIVE = /\b(?:is|are|was|were|be|been|being)\s+\w+ed\b/gi;
const WEASEL = /\b(?:very|really|basically|obviously|simply)\b/gi;

/** A rule-based review: length, structure, passive voice, filler words and long sentences. */
export function reviewContent(title: string, content: string): Review {
  const findings: Finding[] = [];
  let score = 100;
  const penalise = (severity: Finding['severity'], message: string, points: number): void => {
    findings.push({ severity, message });
    score -= points;
  };

  const words = countWords(content);
  if (words < MIN_WORDS) penalise('error', `too short: ${words} words, at least ${MIN_WORDS} expected`, 40);
  else findings.push({ severity: 'info', message: `${words} words` });

  const lines = content.split('\n');
  if (!lines.some((line) => line.startsWith('# '))) penalise('warning', 'no top-level heading', 10);
  const sections = lines.filter((line) => line.startsWith('## ')).length;
  if (sections < 2) penalise('warning', `only ${sections} section(s), at least 2 expected`, 15);

  const passive = content.match(PASSIVE)?.length ?? 0;
  if (passive > 0) penalise('warning', `${passive} passive construction(s)`, Math.min(20, passive * 5));
  const weasel = content.match(WEASEL)?.length ?? 0;
  if (weasel > 0) penalise('info', `${weasel} filler word(s) such as "very" or "really"`, Math.min(10, weasel * 2));
  const prose = lines.filter((line) => line.trim() !== '' && !/^(?:#{1,6} |[-*] |\d+\. )/.test(line));
  const longSentences = prose.flatMap((line) => line.split(/[.!?](?:\s|$)/)).filter((s) => countWords(s) > 30).length;
  if (longSentences > 0) penalise('warning', `${longSentences} sentence(s) over 30 words`, Math.min(20, longSentences * 5));
  if (title.length > MAX_TITLE_LENGTH) penalise('warning', `title over ${MAX_TITLE_LENGTH} characters`, 5);

  score = Math.max(0, Math.min(100, score));
  return { approved: score >= PASSING_SCORE && !findings.some((f) => f.severity === 'error'), score, findings };
}

/** Reads and checks a `review_content` payload. */
export function review(payload: Fields): Review {
  return reviewContent(requireString(payload, 'title', 1_000), requireString(payload, 'content'));
}

export function createExaminationAgent(options: DemoAgentOptions): Agent {
  return new Agent({ ...options, name: 'examination_agent', agentType: 'reviewer' }).handle('review_content', (payload) => review(payload));
}
