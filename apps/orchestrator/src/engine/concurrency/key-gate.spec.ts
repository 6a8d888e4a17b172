import { TaskStatus } from '@orchestrator/contracts';
import { describe, expect, it } from 'vitest';
import type { WorkflowTransaction } from '../../persistence/workflow-transaction.js';
import type { Workflow } from '../workflow.js';
import { KeyBusyError, KeyGate, keyLockId } from './key-gate.js';

/** The statements a gate sends, and locks another transaction holds. */
function fakeTx(heldElsewhere: ReadonlySet<number> = new Set(), running = 0) {
  const calls: string[] = [];
  const tx = {
    lockKeys: (locks: readonly number[], wait: boolean) => {
      calls.push(`${wait ? 'wait' : 'try'} ${locks.join(',')}`);
      return Promise.resolve(wait || !locks.some((lock) => heldElsewhere.has(lock)));
    },
    countRunning: (key: string, except: readonly string[]) => {
      calls.push(`count ${key} except ${except.join(',')}`);
      return Promise.resolve(running);
    },
    markQueued: () => Promise.resolve([]),
    unfinishedRuns: () => Promise.resolve([{ id: 'old-1' }, { id: 'old-2' }]),
  } as unknown as WorkflowTransaction;
  return { tx, calls };
}

const workflow = (id: string, status: TaskStatus, key: string | null = null): Workflow => ({ root: { id, status, concurrency_key: key } }) as unknown as Workflow;

/** Two keys whose locks sort one way: `low` below `high`. */
function keysInOrder(): { low: string; high: string } {
  const [a, b] = ['key-a', 'key-b'].sort((x, y) => keyLockId(x) - keyLockId(y));
  return { low: a, high: b };
}

describe('KeyGate', () => {
  it('hashes a key to the same lock on every replica', () => {
    expect(keyLockId('report/acme')).toBe(keyLockId('report/acme'));
    expect(keyLockId('report/acme')).not.toBe(keyLockId('report/acme2'));
  });

  it('locks the keys of the whole batch at its first decision, in increasing order, once', async () => {
    const { low, high } = keysInOrder();
    const { tx, calls } = fakeTx();
    const gate = new KeyGate(tx);
    const a = workflow('a', TaskStatus.Queued, high);
    const b = workflow('b', TaskStatus.Queued, low);
    gate.join([a, b, workflow('c', TaskStatus.Running, high), workflow('d', TaskStatus.Running)]);
    await gate.decide(a, high, (view) => view.running());
    await gate.decide(b, low, (view) => view.running());
    expect(calls.filter((call) => !call.startsWith('count'))).toEqual([`wait ${keyLockId(low)},${keyLockId(high)}`]);
  });

  it('waits for a key it did not know above the locks it holds, and takes each once per transaction', async () => {
    const { low, high } = keysInOrder();
    const { tx, calls } = fakeTx();
    const gate = new KeyGate(tx);
    await gate.decide(workflow('w1', TaskStatus.Queued), low, (view) => view.running());
    await gate.decide(workflow('w2', TaskStatus.Queued), low, (view) => view.running());
    await gate.decide(workflow('w3', TaskStatus.Queued), high, (view) => view.running());
    expect(calls.filter((call) => !call.startsWith('count'))).toEqual([`wait ${keyLockId(low)}`, `wait ${keyLockId(high)}`]);
  });

  it('only tries a lock below one it holds, and throws KeyBusyError when another transaction has it', async () => {
    const { low, high } = keysInOrder();
    const { tx, calls } = fakeTx(new Set([keyLockId(low)]));
    const gate = new KeyGate(tx);
    await gate.decide(workflow('w1', TaskStatus.Queued), high, (view) => view.running());
    await expect(gate.decide(workflow('w2', TaskStatus.Queued), low, (view) => view.running())).rejects.toBeInstanceOf(KeyBusyError);
    expect(calls.filter((call) => !call.startsWith('count'))).toEqual([`wait ${keyLockId(high)}`, `try ${keyLockId(low)}`]);
    // A failed decision does not stop the ones after it.
    await expect(gate.decide(workflow('w3', TaskStatus.Queued), high, () => Promise.resolve('ok'))).resolves.toBe('ok');
  });

  it('counts the runs of its batch from memory and the others from the database', async () => {
    const { tx, calls } = fakeTx(new Set(), 2);
    const gate = new KeyGate(tx);
    const running = workflow('here-running', TaskStatus.Running);
    const queued = workflow('here-queued', TaskStatus.Queued);
    await gate.decide(running, 'k', () => Promise.resolve());
    const seen = await gate.decide(queued, 'k', async (view) => ({ running: await view.running(), queued: view.queuedHere().map((wf) => wf.root.id), others: await view.others(10) }));
    expect(seen).toEqual({ running: 3, queued: ['here-queued'], others: ['here-running', 'old-1', 'old-2'] });
    expect(calls.at(-1)).toBe('count k except here-running,here-queued');
  });

  it('makes the decisions of a batch one at a time', async () => {
    const { tx } = fakeTx();
    const gate = new KeyGate(tx);
    const order: string[] = [];
    const slow = gate.decide(workflow('a', TaskStatus.Queued), 'k', async () => {
      order.push('a starts');
      await new Promise((resolve) => setTimeout(resolve, 20));
      order.push('a ends');
    });
    const fast = gate.decide(workflow('b', TaskStatus.Queued), 'k', () => Promise.resolve(void order.push('b')));
    await Promise.all([slow, fast]);
    expect(order).toEqual(['a starts', 'a ends', 'b']);
  });
});
