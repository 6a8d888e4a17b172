import { Injectable } from '@nestjs/common';
import type { PlannedStep } from '../../planning/plan.js';
import { AgentStep } from './agent-step.js';
import { kindOf, type StepKind, type StepKindName } from './step-kind.js';
import { SleepStep } from './sleep-step.js';
import { WaitStep } from './wait-step.js';

/**
 * The kinds of steps, by name: the one place the engine tells them apart. A new kind is a file
 * with its StepKind and a line here.
 */
@Injectable()
export class StepKinds {
  private readonly table: Readonly<Record<StepKindName, StepKind>>;

  constructor(agent: AgentStep, wait: WaitStep, sleep: SleepStep) {
    this.table = {
      agent,
      // A child workflow is a sub-task the orchestrator sends to itself.
      workflow: agent,
      wait_for: wait,
      sleep,
    };
  }

  of(planned: PlannedStep): StepKind {
    return this.table[kindOf(planned)];
  }
}
