/**
 * The Redis side of waiting for an agent, as Lua scripts: each runs atomically, so a slot that
 * frees and a step that starts to wait can never miss each other, and two replicas never take the
 * same waiting step.
 *
 * Keys (the prefix is `orchestrator:`):
 * - `agents:in-flight:<agent>`: the agent's slots, a sorted set of sub-task ids scored by when the
 *   slot frees itself (the attempt's deadline, or a claim's lease), so a lost release heals.
 * - `agents:capacity:<agent>`: the capacity the router last saw, for releases that do not know it.
 * - `slot:<sub-task id>`: the agent holding that sub-task's slot (expires with it).
 * - `queue:<queue>`: the steps waiting, sub-task ids scored by priority, then fair rank.
 * - `queue-meta:<queue>`: per waiting sub-task, `<enqueued ms>|<root id>|<fairness key>`.
 * - `queue-fair:<queue>`: the line's virtual time `v`, each fairness key's last rank `t:<key>`
 *   and how many of its steps wait `n:<key>`.
 * - `queues-of:<agent>`: the lines of named-agent steps this agent serves.
 * - `queues`: every line with steps in it.
 *
 * Fairness is start-time fair queuing: a waiting step gets the rank max(v, last rank of its key) + 1
 * and the line serves the lowest rank first, so a key with 10,000 waiting and a key with 10 take
 * turns, and a key that was idle starts at the line's present, not its past.
 */

/** Priorities are 0 (CRITICAL) to 3 (LOW); a rank is priority × PRIORITY_SPAN + fair rank. */
export const PRIORITY_SPAN = 2 ** 44;

const COMMON = `
local P = 'orchestrator:'
local SPAN = ${PRIORITY_SPAN}
local function slots_of(agent) return P .. 'agents:in-flight:' .. agent end
local function take_slot(agent, member, expires, now)
  redis.call('ZADD', slots_of(agent), expires, member)
  local ttl = math.max(1, math.floor(expires - now))
  if redis.call('PTTL', slots_of(agent)) < ttl then redis.call('PEXPIRE', slots_of(agent), ttl) end
  redis.call('SET', P .. 'slot:' .. member, agent, 'PX', ttl)
end
local function free_slots(agent, capacity, now)
  redis.call('ZREMRANGEBYSCORE', slots_of(agent), '-inf', now)
  return capacity - redis.call('ZCARD', slots_of(agent))
end
-- Takes a waiting sub-task out of its line; returns its meta ('<enqueued ms>|<root>|<key>') or false.
local function leave_line(queue, member)
  if redis.call('ZREM', P .. 'queue:' .. queue, member) == 0 then return false end
  local meta = redis.call('HGET', P .. 'queue-meta:' .. queue, member) or '0||'
  redis.call('HDEL', P .. 'queue-meta:' .. queue, member)
  local key = string.match(meta, '^[^|]*|[^|]*|(.*)$') or ''
  local fair = P .. 'queue-fair:' .. queue
  if redis.call('HINCRBY', fair, 'n:' .. key, -1) <= 0 then redis.call('HDEL', fair, 'n:' .. key) end
  if redis.call('ZCARD', P .. 'queue:' .. queue) == 0 then redis.call('SREM', P .. 'queues', queue) end
  return meta
end
-- Pops the head of the first-ranked of these lines into a slot of the agent (expires at lease);
-- returns {member, queue, meta} or nil.
local function pop_head(queues, agent, lease, now, claim)
  local best, best_queue, best_rank = nil, nil, nil
  for _, queue in ipairs(queues) do
    local head = redis.call('ZRANGE', P .. 'queue:' .. queue, 0, 0, 'WITHSCORES')
    if head[1] and (best_rank == nil or tonumber(head[2]) < best_rank) then
      best, best_queue, best_rank = head[1], queue, tonumber(head[2])
    end
  end
  if not best then return nil end
  local meta = leave_line(best_queue, best)
  redis.call('HSET', P .. 'queue-fair:' .. best_queue, 'v', best_rank % SPAN)
  if claim then take_slot(agent, best, lease, now) end
  return {best, best_queue, meta}
end
-- Moves the lines into the agent's free slots (or, capacity < 0, up to limit of them with no slot).
local function pump(agent, capacity, queues, lease, now, limit, out)
  local room = capacity < 0 and limit or free_slots(agent, capacity, now)
  while room > 0 do
    local popped = pop_head(queues, agent, lease, now, capacity >= 0)
    if not popped then break end
    table.insert(out, popped[1]); table.insert(out, agent); table.insert(out, popped[2]); table.insert(out, popped[3])
    room = room - 1
  end
end
local function lines_of(agent, extra)
  local queues = redis.call('SMEMBERS', P .. 'queues-of:' .. agent)
  for _, queue in ipairs(extra) do table.insert(queues, queue) end
  return queues
end
`;

/**
 * A step asks for a slot on one of its candidates.
 * KEYS: none. ARGV: now, deadline, member, root id, priority, fairness key, queue, lease, may wait (1 or 0:
 * then it takes a free slot or nothing), n, then n candidates, n capacities, then the agents that
 * serve this line (named-agent steps).
 * Returns {index of the candidate whose slot it holds (1-based) or 0 when it waits, its rank,
 * then the sub-tasks popped into slots for others: member, agent, queue, meta, ...}.
 * A sub-task already holding a slot on a candidate (popped for it) keeps it, until its deadline.
 * An empty line lets it take a free slot; otherwise it joins the line, and the line moves into
 * whatever room there is, it included, so the fairest step goes first.
 */
export const RESERVE_OR_WAIT = `${COMMON}
local now, deadline, member, root = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
local priority, key, queue, lease = tonumber(ARGV[5]), ARGV[6], ARGV[7], tonumber(ARGV[8])
local may_wait, n = ARGV[9] == '1', tonumber(ARGV[10])
local agents, caps = {}, {}
for i = 1, n do agents[i] = ARGV[10 + i]; caps[i] = tonumber(ARGV[10 + n + i]) end
local serving = {}
for i = 11 + 2 * n, #ARGV do table.insert(serving, ARGV[i]) end
for i = 1, n do
  redis.call('SET', P .. 'agents:capacity:' .. agents[i], caps[i], 'PX', 3600000)
  if redis.call('ZSCORE', slots_of(agents[i]), member) then
    take_slot(agents[i], member, deadline, now)
    leave_line(queue, member)
    return {i, 0}
  end
end
local line = P .. 'queue:' .. queue
if redis.call('ZCARD', line) == 0 or not may_wait then
  for i = 1, n do
    if free_slots(agents[i], caps[i], now) > 0 then take_slot(agents[i], member, deadline, now); return {i, 0} end
  end
end
if not may_wait then return {0, 0} end
local rank = redis.call('ZSCORE', line, member)
if rank then
  rank = tonumber(rank)
else
  local fair = P .. 'queue-fair:' .. queue
  local v = tonumber(redis.call('HGET', fair, 'v') or '0')
  local last = tonumber(redis.call('HGET', fair, 't:' .. key) or '0')
  local tag = math.max(v, last) + 1
  redis.call('HSET', fair, 't:' .. key, tag)
  redis.call('HINCRBY', fair, 'n:' .. key, 1)
  rank = priority * SPAN + tag
  redis.call('ZADD', line, rank, member)
  redis.call('HSET', P .. 'queue-meta:' .. queue, member, now .. '|' .. root .. '|' .. key)
  redis.call('SADD', P .. 'queues', queue)
  for _, agent in ipairs(serving) do redis.call('SADD', P .. 'queues-of:' .. agent, queue) end
end
local out = {0, rank}
for i = 1, n do pump(agents[i], caps[i], {queue}, lease, now, 0, out) end
for j = 3, #out, 4 do
  if out[j] == member then
    local agent = out[j + 1]
    take_slot(agent, member, deadline, now)
    for i = 1, n do if agents[i] == agent then out[1] = i end end
    table.remove(out, j); table.remove(out, j); table.remove(out, j); table.remove(out, j)
    break
  end
end
return out
`;

/**
 * A slot frees (its sub-task answered, timed out or was stopped) and the agent's lines move into
 * the room. ARGV: now, member (or ''), agent (or '': the slot's holder), sender (or '': the
 * release counts only if the slot is this agent's), lease, capacity (or '': the last seen),
 * limit (for agents without a capacity), then the capability lines the agent serves.
 * Returns the popped sub-tasks: member, agent, queue, meta, ...
 */
export const RELEASE_AND_PUMP = `${COMMON}
local now, member, agent, sender = tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4]
local lease, capacity, limit = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local extra = {}
for i = 8, #ARGV do table.insert(extra, ARGV[i]) end
if member ~= '' then
  local holder = redis.call('GET', P .. 'slot:' .. member)
  if agent == '' then agent = holder or '' end
  if sender ~= '' and holder ~= sender then return {} end
  if agent ~= '' then redis.call('ZREM', slots_of(agent), member) end
  if holder then redis.call('DEL', P .. 'slot:' .. member) end
end
if agent == '' then return {} end
if capacity == '' then capacity = redis.call('GET', P .. 'agents:capacity:' .. agent) end
if not capacity then return {} end
local out = {}
pump(agent, tonumber(capacity), lines_of(agent, extra), lease, now, limit, out)
return out
`;

/** Takes sub-tasks out of their line (their steps stopped waiting). ARGV: pairs of queue, member. */
export const LEAVE = `${COMMON}
local left = 0
for i = 1, #ARGV, 2 do if leave_line(ARGV[i], ARGV[i + 1]) then left = left + 1 end end
return left
`;

/**
 * Puts waiting sub-tasks back in their line with the rank they had, unless they are in it or hold
 * a slot (popped, their dispatch under way). ARGV: now, then groups of queue, member, root id,
 * rank, key, and the number of agents that serve the line followed by them. Returns how many went back.
 */
export const RESTORE = `${COMMON}
local now, back, i = tonumber(ARGV[1]), 0, 2
while i <= #ARGV do
  local queue, member, root, rank, key = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), ARGV[i + 4]
  local n = tonumber(ARGV[i + 5])
  local line = P .. 'queue:' .. queue
  if not redis.call('ZSCORE', line, member) and redis.call('EXISTS', P .. 'slot:' .. member) == 0 then
    redis.call('ZADD', line, rank, member)
    redis.call('HSET', P .. 'queue-meta:' .. queue, member, now .. '|' .. root .. '|' .. key)
    redis.call('HINCRBY', P .. 'queue-fair:' .. queue, 'n:' .. key, 1)
    redis.call('SADD', P .. 'queues', queue)
    for j = 1, n do redis.call('SADD', P .. 'queues-of:' .. ARGV[i + 5 + j], queue) end
    back = back + 1
  end
  i = i + 6 + n
end
return back
`;
