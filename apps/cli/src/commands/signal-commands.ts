import type { Command } from 'commander';
import type { OrchestratorClient } from '@orchestrator/client';
import { APPROVAL_SIGNAL, EVENT_NAME_PATTERN, SIGNAL_NAME_PATTERN, type SignalReply } from '@orchestrator/contracts';
import { parsePayload, parseWholeNumber } from '../args.js';
import { UsageError } from '../cli-error.js';
import { renderApprovals } from '../format/approvals.js';
import type { Output } from '../output.js';
import type { CommandContext } from './command-context.js';

interface SignalFlags {
  signalId?: string;
  json?: boolean;
}

/** signal, approve, reject, approvals and event: what workflows that wait are given. */
export function addSignalCommands(program: Command, context: CommandContext): void {
  program
    .command('signal')
    .description('send a signal to a workflow: the step waiting for it takes it, or it is kept for the step that will')
    .argument('<task_id>')
    .argument('<signal>', "the signal's name, as the step's wait_for says")
    .option('-p, --payload <json>', "the signal's payload, a JSON object ('@file' reads a file, '@-' standard input)", '{}')
    .option('--signal-id <id>', 'makes a repeat recognisable: the same id twice is taken once')
    .option('--json', 'print the answer, one JSON document')
    .action(async (taskId: string, signal: string, options: { payload: string } & SignalFlags) => {
      const payload = parsePayload(options.payload);
      await send(context, options, (client) => client.signal(taskId, signalName(signal), payload, signalOptions(options)));
    });

  for (const approved of [true, false]) {
    program
      .command(approved ? 'approve' : 'reject')
      .description(`${approved ? 'approve' : 'reject'} a workflow waiting for a person: the signal "${APPROVAL_SIGNAL}" with { approved: ${String(approved)}, comment? }`)
      .argument('<task_id>')
      .option('-c, --comment <text>', 'a comment, kept in the step\'s result')
      .option('--signal <name>', 'the signal the step waits for', APPROVAL_SIGNAL)
      .option('--signal-id <id>', 'makes a repeat recognisable: the same id twice is taken once')
      .option('--json', 'print the answer, one JSON document')
      .action(async (taskId: string, options: { comment?: string; signal: string } & SignalFlags) => {
        const flags = { ...signalOptions(options), signal: signalName(options.signal), ...(options.comment !== undefined ? { comment: options.comment } : {}) };
        await send(context, options, (client) => (approved ? client.approve(taskId, flags) : client.reject(taskId, flags)));
      });
  }

  program
    .command('approvals')
    .description('the steps waiting for a signal (a person, most often), longest waiting first')
    .option('--signal <name>', 'only those waiting for this signal')
    .option('--limit <n>', 'steps per page, 1 to 100', '20')
    .option('--cursor <cursor>', 'the page after the one that printed this cursor')
    .option('--json', 'print the page as the API gives it, one JSON document')
    .action(async (options: { signal?: string; limit: string; cursor?: string; json?: boolean }) => {
      const filter = {
        limit: parseWholeNumber('--limit', options.limit),
        ...(options.signal !== undefined ? { signal: signalName(options.signal) } : {}),
        ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
      };
      await context.withClient(async (client, out) => {
        const page = await client.approvals(filter);
        if (options.json) out.json(page);
        else out.line(...renderApprovals(page, out.colors));
      });
    });

  program
    .command('event')
    .description('publish an external event: every step waiting for it whose match fields it equals resumes')
    .argument('<name>', "the event's name, e.g. payment.received")
    .option('-p, --payload <json>', "the event, a JSON object ('@file' reads a file, '@-' standard input)", '{}')
    .option('--json', 'print the answer, one JSON document')
    .action(async (name: string, options: { payload: string; json?: boolean }) => {
      if (!EVENT_NAME_PATTERN.test(name)) throw new UsageError(`name: must match ${EVENT_NAME_PATTERN.source}, not "${name}"`);
      const event = parsePayload(options.payload);
      await context.withClient(async (client, out) => {
        const reply = await client.publishEvent(name, event);
        if (options.json) out.json(reply);
        else out.line(`${name}: resumed ${reply?.resumed ?? 0} waiting step(s)${reply?.kept ? '; kept for steps that start later' : ''}`);
      });
    });
}

function signalName(text: string): string {
  if (!SIGNAL_NAME_PATTERN.test(text)) throw new UsageError(`signal: must match ${SIGNAL_NAME_PATTERN.source}, not "${text}"`);
  return text;
}

function signalOptions(flags: SignalFlags): { signalId?: string } {
  return flags.signalId !== undefined ? { signalId: flags.signalId } : {};
}

async function send(context: CommandContext, flags: SignalFlags, work: (client: OrchestratorClient) => Promise<SignalReply>): Promise<void> {
  await context.withClient(async (client, out) => {
    const reply = await work(client);
    if (flags.json) out.json(reply);
    else out.line(describeReply(reply, out));
  });
}

function describeReply(reply: SignalReply, out: Output): string {
  if (reply.duplicate) return `${reply.task_id}: ${reply.signal} was received before (same signal id); nothing changed`;
  if (reply.outcome === 'kept') return `${reply.task_id}: ${reply.signal} kept for step ${reply.step ?? '?'}, which does not wait yet`;
  return `${reply.task_id}: ${reply.signal} ${out.colors.green('accepted')} by step ${reply.step ?? '?'}`;
}
