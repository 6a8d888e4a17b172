import { jetstreamManager, JetStreamApiCodes, JetStreamApiError, type ConsumerInfo, type StreamInfo } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ORCHESTRATOR_INTAKE_CONSUMER, ORCHESTRATOR_INTAKE_STREAM } from '@orchestrator/contracts';
import { testEnv } from './test-env.js';

const notFound = (error: unknown): boolean =>
  error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound);

/** The intake stream and its consumer as the NATS server reports them, or undefined while there are none. */
export async function intakeStream(natsUrl = testEnv().natsUrl): Promise<{ stream: StreamInfo; consumer: ConsumerInfo } | undefined> {
  const nc = await connect({ servers: natsUrl, name: 'e2e-intake-stream' });
  try {
    const jsm = await jetstreamManager(nc);
    return { stream: await jsm.streams.info(ORCHESTRATOR_INTAKE_STREAM), consumer: await jsm.consumers.info(ORCHESTRATOR_INTAKE_STREAM, ORCHESTRATOR_INTAKE_CONSUMER) };
  } catch (error) {
    if (notFound(error)) return undefined;
    throw error;
  } finally {
    await nc.close();
  }
}

/** Deletes the intake stream, with the requests it keeps: no test runs another's requests. */
export async function deleteIntakeStream(natsUrl = testEnv().natsUrl): Promise<void> {
  const nc = await connect({ servers: natsUrl, name: 'e2e-intake-stream' });
  try {
    await (await jetstreamManager(nc)).streams.delete(ORCHESTRATOR_INTAKE_STREAM).catch((error: unknown) => {
      if (!notFound(error)) throw error;
    });
  } finally {
    await nc.close();
  }
}
