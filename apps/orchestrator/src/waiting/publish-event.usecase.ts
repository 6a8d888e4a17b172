import { Injectable } from '@nestjs/common';
import { EVENT_NAME_PATTERN, isEventName, isPlainObject, jsonValueProblem, type ExternalEventReply } from '@orchestrator/contracts';
import { WaitingWorkflows } from '../engine/waits/waiting-workflows.service.js';
import type { Sender } from '../engine/workflow-signals.js';

export type EventAnswer = { ok: true; reply: ExternalEventReply } | { ok: false; error: string };

/** An external event from any transport: checked, then handed to the steps waiting for it. */
@Injectable()
export class PublishEventUseCase {
  constructor(private readonly waiting: WaitingWorkflows) {}

  async execute(name: string, body: unknown, sender: Sender): Promise<EventAnswer> {
    if (!isEventName(name)) return { ok: false, error: `event: must match ${EVENT_NAME_PATTERN.source}` };
    if (!isPlainObject(body)) return { ok: false, error: 'event: must be a JSON object' };
    const problem = jsonValueProblem(body, 'event');
    if (problem) return { ok: false, error: problem };
    const { resumed, kept } = await this.waiting.event(name, body, sender);
    return { ok: true, reply: { event: name, resumed, kept } };
  }
}
