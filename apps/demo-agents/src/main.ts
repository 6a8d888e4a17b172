import { connect } from '@nats-io/transport-node';
import { runAgents, type Agent } from '@orchestrator/agent-sdk';
import { createCommunicationAgent } from './communication.agent.js';
import { loadDemoConfig, type DemoAgentName } from './demo-config.js';
import { createDraftingAgent } from './drafting.agent.js';
import { createEnhancementAgent } from './enhancement.agent.js';
import { createExaminationAgent } from './examination.agent.js';
import { createLlmAgent } from './llm.agent.js';

const config = loadDemoConfig();
const connection = await connect({ servers: config.natsUrl.split(','), name: 'demo-agents', maxReconnectAttempts: -1 });
const options = { connection, maxConcurrency: config.maxConcurrency, heartbeatIntervalMs: config.heartbeatIntervalMs };

const factories: Record<DemoAgentName, () => Agent> = {
  llm_agent: () => createLlmAgent(options),
  enhancement_agent: () => createEnhancementAgent(options),
  examination_agent: () => createExaminationAgent(options),
  drafting_agent: () => createDraftingAgent(options),
  communication_agent: () => createCommunicationAgent(options, config.publishDir),
};

await runAgents(config.agents.map((name) => factories[name]()), (message) => console.log(`[demo-agents] ${message}`));
