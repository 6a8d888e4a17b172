import { connect } from '@nats-io/transport-node';
import { consoleLogger, runAgents } from '@orchestrator/agent-sdk';
import { createDemoAgents } from './demo-agents.js';
import { loadDemoConfig } from './demo-config.js';

const logger = consoleLogger('demo-agents');

try {
  const config = loadDemoConfig();
  const connection = await connect({ servers: config.natsServers, name: 'demo-agents', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  await runAgents(createDemoAgents(config, connection), {
    logger,
    afterStop: () => connection.drain(),
  });
  logger.log(`publishing into ${config.publishDir}`);
} catch (error) {
  logger.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
