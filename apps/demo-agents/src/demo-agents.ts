import type { NatsConnection } from '@nats-io/transport-node';
import type { Agent } from '@orchestrator/agent-sdk';
import { createCommunicationAgent } from './communication.agent.js';
import type { DemoConfig, DemoAgentName } from './demo-config.js';
import { createDraftingAgent } from './drafting.agent.js';
import { createEnhancementAgent } from './enhancement.agent.js';
import { createExaminationAgent } from './examination.agent.js';
import { createLlmAgent } from './llm.agent.js';

/** The demo agents named in the configuration, sharing one connection; not started. */
export function createDemoAgents(config: DemoConfig, connection: NatsConnection): Agent[] {
  const options = { connection, maxConcurrency: config.maxConcurrency, heartbeatIntervalMs: config.heartbeatIntervalMs };
  const factories: Record<DemoAgentName, () => Agent> = {
    llm_agent: () => createLlmAgent(options),
    enhancement_agent: () => createEnhancementAgent(options),
    examination_agent: () => createExaminationAgent(options),
    drafting_agent: () => createDraftingAgent(options),
    communication_agent: () => createCommunicationAgent({ ...options, publishDir: config.publishDir }),
  };
  return config.agents.map((name) => factories[name]());
}
