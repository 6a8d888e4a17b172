import type { StreamState } from '../hooks/use-event-stream';

const TEXT: Record<StreamState, string> = { live: 'live', connecting: 'connecting…', down: 'polling' };
const TITLE: Record<StreamState, string> = {
  live: 'Updates arrive as they happen (Server-Sent Events)',
  connecting: 'Connecting to the event stream',
  down: 'The event stream is not available: the page asks for updates every few seconds',
};

export function StreamBadge({ state }: { state: StreamState }) {
  return (
    <span className={`stream stream-${state}`} title={TITLE[state]} data-stream={state}>
      ● {TEXT[state]}
    </span>
  );
}
