import type { NatsConnection } from '@nats-io/transport-node';
import type { Agent } from '@orchestrator/agent-sdk';
import { createCommunicationAgent } from './communication.agent.js';
import type { DemoConfig, DemoAgentName } from './demo-config.js';
import { createDraftingAgent } from './drafting.agent.js';
import { createEnhancementAgent } from './enhancement.agent.js';
import { createExaminationAgent } from './examination.agent.js';
import { createLlmAgent, type DemoAgentOptions } from './llm.agent.js';

/**
 * The demo agents named in the configuration; not started. An agent with a NATS password logs in
 * as itself on a connection of its own; the others share `shared`.
 */
export function createDemoAgents(config: DemoConfig, shared: () => NatsConnection): Agent[] {
  const common = { maxConcurrency: config.maxConcurrency, heartbeatIntervalMs: config.heartbeatIntervalMs };
  const options = (name: DemoAgentName): DemoAgentOptions => {
    const pass = config.passwords[name];
    return pass === undefined ? { ...common, connection: shared() } : { ...common, natsUrl: config.natsServers.join(','), user: name, pass };
  };
  const factories: Record<DemoAgentName, () => Agent> = {
    llm_agent: () => createLlmAgent(options('llm_agent')),
    enhancement_agent: () => createEnhancementAgent(options('enhancement_agent')),
    examination_agent: () => createExaminationAgent(options('examination_agent')),
    drafting_agent: () => createDraftingAgent(options('drafting_agent')),
    communication_agent: () => createCommunicationAgent({ ...options('communication_agent'), publishDir: config.publishDir }),
  };
  return config.agents.map((name) => factories[name]());
}
