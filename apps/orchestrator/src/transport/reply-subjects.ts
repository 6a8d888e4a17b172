/** The platform's own namespaces: subjects of agents and orchestrators, events, and the server's APIs (JetStream, system). */
const PLATFORM_PREFIXES = ['agent.', 'platform.', '$'];

/**
 * Why the orchestrator will not answer on this reply subject, or null when it may. NATS lets a
 * publisher name any reply subject and the orchestrator may publish anywhere, so an answer sent
 * where the requester said would let a client speak with the orchestrator's voice: on the
 * subjects orchestrators and agents consume (answers, sub-tasks, cancels), on lifecycle events,
 * or on the server's own APIs. Replies go to inboxes; `ownInbox` is the orchestrator's inbox
 * prefix, refused unless it is the shared default.
 */
export function replySubjectProblem(reply: string, ownInbox: string): string | null {
  const own = ownInbox !== '_INBOX' && reply.startsWith(`${ownInbox}.`);
  const platform = own || PLATFORM_PREFIXES.some((prefix) => reply.startsWith(prefix));
  return platform ? `reply: ${JSON.stringify(reply.slice(0, 120))} is a subject of the platform, not an inbox; request with a reply subject of your own (an inbox)` : null;
}
