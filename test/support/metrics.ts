/** The value of one series of a replica's /metrics (0 when absent), e.g. `metric(url, 'orchestrator_requests_refused_total', { reason: 'reply_subject' })`. */
export async function metric(baseUrl: string, name: string, labels: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`, { headers })).text();
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const series = /\{([^}]*)\}/.exec(line)?.[1]?.split(',') ?? [];
    if (wanted.every((label) => series.includes(label))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}
