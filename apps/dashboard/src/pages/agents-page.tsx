import { api } from '../api/client';
import type { AgentInfo, Listing } from '../api/types';
import { Empty, ErrorState, Loading } from '../components/states';
import { ProgressBar } from '../components/status-badge';
import { formatAge } from '../format';
import { useNow } from '../hooks/use-now';
import { useResource } from '../hooks/use-resource';

/** The registry has no stream: its view is asked for every second. */
const POLL_MS = 1000;

function loadLabel(agent: AgentInfo): string {
  return agent.capacity === null ? `${agent.in_flight} in flight (no limit known)` : `${agent.in_flight}/${agent.capacity}`;
}

/** Every live agent and instance, with capabilities, load against capacity, steps waiting and rate-limit headroom, as the router sees them. */
export function AgentsPage() {
  const now = useNow();
  const agents = useResource('agents', (signal) => api<Listing<AgentInfo>>('/agents', { signal }), POLL_MS);
  return (
    <div>
      <header className="page-head">
        <h1>Agents</h1>
        <span className="muted">live agents as the router sees them, every second</span>
      </header>
      {agents.data === undefined ? (
        agents.error ? (
          <ErrorState error={agents.error} what="the agents" retry={agents.refresh} />
        ) : (
          <Loading what="agents" />
        )
      ) : agents.data.items.length === 0 ? (
        <Empty title="No live agent.">
          Agents join by announcing themselves on <code>platform.events.agent_registered</code> and sending heartbeats; start the demo ones with{' '}
          <code>npm run start:demo-agents</code>, write one with the Node SDK (<code>libs/agent-sdk</code>), or declare agents without heartbeats in{' '}
          <code>STATIC_AGENTS</code>. Steps wait for a live agent up to their timeout.
        </Empty>
      ) : (
        <div className="agents">
          {agents.data.items.map((agent) => (
            <section className="card agent" key={agent.name} data-agent={agent.name}>
              <div className="agent-head">
                <h2>{agent.name}</h2>
                {agent.static && <span className="chip">static</span>}
              </div>
              <div className="agent-load">
                <span>load</span>
                <ProgressBar done={agent.in_flight} total={agent.capacity ?? Math.max(agent.in_flight, 1)} label={loadLabel(agent)} />
                <span className="muted" data-role="in-flight" data-value={agent.in_flight}>
                  {agent.in_flight} in flight
                </span>
                <span className="muted" title="What its instances reported in their last heartbeats">
                  reported {agent.reported_in_flight}
                </span>
              </div>
              <div className="agent-load">
                <span>waiting</span>
                <strong data-role="waiting" data-value={agent.waiting ?? 0} title="Steps waiting for a free slot on this agent">
                  {agent.waiting ?? 0} {(agent.waiting ?? 0) === 1 ? 'step' : 'steps'}
                </strong>
                {agent.rate_limit && (
                  <span data-role="rate-headroom" data-value={agent.rate_headroom ?? 0} title="Sub-tasks its rate limit takes now, of its limit per window (all replicas)">
                    rate limit: <ProgressBar done={agent.rate_headroom ?? 0} total={agent.rate_limit.limit} label={`${agent.rate_headroom ?? 0}/${agent.rate_limit.limit} left per ${agent.rate_limit.per}`} />
                  </span>
                )}
              </div>
              <div className="chips">
                {agent.capabilities.map((c) => (
                  <span className="chip" key={c}>
                    {c}
                  </span>
                ))}
              </div>
              {agent.instances.length > 0 && (
                <table className="instances">
                  <thead>
                    <tr>
                      <th>instance</th>
                      <th>type</th>
                      <th>load</th>
                      <th>last heartbeat</th>
                    </tr>
                  </thead>
                  <tbody>
                    {agent.instances.map((instance) => (
                      <tr key={instance.instance_id}>
                        <td>
                          <code>{instance.instance_id}</code>
                        </td>
                        <td>{instance.agent_type}</td>
                        <td>{instance.load ? <ProgressBar done={instance.load.in_flight} total={instance.load.max_concurrency} /> : '–'}</td>
                        <td>{formatAge(instance.last_seen, now)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
          ))}
        </div>
      )}
    </div>
  );
}
