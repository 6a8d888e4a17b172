import { connect } from '@nats-io/transport-node';
import { consoleLogger, runAgents } from '@orchestrator/agent-sdk';
import { createDemoAgents } from './demo-agents.js';
import { loadDemoConfig } from './demo-config.js';

const logger = consoleLogger('demo-agents');

try {
  const config = loadDemoConfig();
  // Shared by the agents without a password of their own, if any.
  const connection = config.agents.some((name) => config.passwords[name] === undefined)
    ? await connect({ servers: config.natsServers, name: 'demo-agents', maxReconnectAttempts: -1, reconnectTimeWait: 250 })
    : undefined;
  await runAgents(
    createDemoAgents(config, () => {
      if (!connection) throw new Error('no shared connection');
      return connection;
    }),
    {
      logger,
      afterStop: async () => {
        await connection?.drain();
      },
    },
  );
  logger.log(`publishing into ${config.publishDir}`);
} catch (error) {
  logger.error(`cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
