import { jetstreamManager, JetStreamApiCodes, JetStreamApiError, type ConsumerInfo, type StreamInfo } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { ORCHESTRATOR_ANSWERS_STREAM, ORCHESTRATOR_INTAKE_CONSUMER, ORCHESTRATOR_INTAKE_STREAM } from '@orchestrator/contracts';
import { testEnv } from './test-env.js';

const notFound = (error: unknown): boolean =>
  error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.StreamNotFound || error.code === JetStreamApiCodes.ConsumerNotFound);

/** A stream of the orchestrator (the intake stream unless named) and its consumer, as the NATS server reports them; undefined while there are none. */
export async function intakeStream(stream = ORCHESTRATOR_INTAKE_STREAM, natsUrl = testEnv().natsUrl): Promise<{ stream: StreamInfo; consumer: ConsumerInfo } | undefined> {
  const nc = await connect({ servers: natsUrl, name: 'e2e-intake-stream' });
  try {
    const jsm = await jetstreamManager(nc);
    return { stream: await jsm.streams.info(stream), consumer: await jsm.consumers.info(stream, ORCHESTRATOR_INTAKE_CONSUMER) };
  } catch (error) {
    if (notFound(error)) return undefined;
    throw error;
  } finally {
    await nc.close();
  }
}

/** Deletes the orchestrator's streams, with what they keep: no test runs another's requests. */
export async function deleteIntakeStreams(natsUrl = testEnv().natsUrl): Promise<void> {
  const nc = await connect({ servers: natsUrl, name: 'e2e-intake-stream' });
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of [ORCHESTRATOR_INTAKE_STREAM, ORCHESTRATOR_ANSWERS_STREAM]) {
      await jsm.streams.delete(stream).catch((error: unknown) => {
        if (!notFound(error)) throw error;
      });
    }
  } finally {
    await nc.close();
  }
}
