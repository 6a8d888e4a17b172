import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HistoryAgent } from './support/history-agent.js';
import { SseClient } from './support/sse-client.js';
import { useTestStack } from './support/test-stack.js';

const FIXTURES = join(new URL('.', import.meta.url).pathname, 'fixtures', 'workflows');
const API_KEY = 'e2e-history-stream-key';

describe('history streams across replicas', () => {
  const hist = new HistoryAgent();
  const stack = useTestStack({ workflowsDir: FIXTURES, replicas: 2, agents: [hist.agent], env: { API_KEY } });

  const streamUrl = (replica: number, path: string): string => `${stack.orchestrators[replica]?.baseUrl ?? ''}${path}`;

  it('a client of a replica that is killed resumes on the other with Last-Event-ID and misses nothing, twice nothing', async () => {
    // Browsers cannot set headers on an EventSource: the key goes in the query, on the stream routes only.
    const refused = await SseClient.open(streamUrl(0, '/events/stream'));
    expect(refused.status).toBe(401);
    expect((await fetch(streamUrl(0, `/tasks/x/events?api_key=${API_KEY}`))).status).toBe(401);
    const all = await SseClient.open(streamUrl(0, `/events/stream?task_type=e2e_history&api_key=${API_KEY}`));
    const other = await SseClient.open(streamUrl(1, `/events/stream?task_type=e2e_other&api_key=${API_KEY}`));
    expect([all.status, other.status]).toEqual([200, 200]);

    const items = Array.from({ length: 30 }, (_, i) => i);
    const submitted = await fetch(streamUrl(1, '/tasks'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
      body: JSON.stringify({ task_id: 'kill-1', task_type: 'e2e_history', payload: { items, delay_ms: 60 } }),
    });
    expect(submitted.status).toBe(202);
    const one = await SseClient.open(streamUrl(0, `/tasks/kill-1/stream?api_key=${API_KEY}`));
    expect(one.status).toBe(200);
    await one.waitFor('ten items dispatched', () => one.events.filter((e) => e.data['kind'] === 'dispatched').length >= 10);

    await stack.orchestrators[0]?.kill();
    await Promise.all([one.waitForEnd(), all.waitForEnd()]);
    const [oneBefore, allBefore] = [one.events.length, all.events.length];
    expect(one.lastEventId).toBeDefined();
    const headers = (client: SseClient): Record<string, string> => ({ 'Last-Event-ID': client.lastEventId ?? '', 'X-API-Key': API_KEY });
    const oneAgain = await SseClient.open(streamUrl(1, '/tasks/kill-1/stream'), headers(one));
    const allAgain = await SseClient.open(streamUrl(1, '/events/stream?task_type=e2e_history'), headers(all));
    expect([oneAgain.status, allAgain.status]).toEqual([200, 200]);

    // The killed replica's work is taken over (answers in its batches at their deadlines).
    await oneAgain.waitFor('answer_sent', (e) => e.data['kind'] === 'answer_sent', 60_000);
    await allAgain.waitFor('answer_sent', (e) => e.data['kind'] === 'answer_sent', 10_000);
    const table = (await stack.db.query<{ id: string }>(`SELECT id FROM task_events WHERE task_id = 'kill-1' ORDER BY id`)).map((row) => Number(row.id));
    const oneIds = [...one.events, ...oneAgain.events].map((e) => Number(e.data['id']));
    expect(oneIds).toEqual(table);
    const allIds = [...all.events, ...allAgain.events].map((e) => Number(e.data['id']));
    expect(new Set(allIds).size).toBe(allIds.length);
    expect([...allIds].sort((a, b) => a - b)).toEqual(table);
    expect(oneBefore).toBeGreaterThan(0);
    expect(allBefore).toBeGreaterThan(0);
    // A filter keeps the others out.
    expect(other.events).toHaveLength(0);
    for (const client of [oneAgain, allAgain, other]) client.close();
  });
});
