/**
 * The Lua scripts that give Redis what the KvStore port promises and Redis lacks: revisions,
 * guarded all-or-nothing transactions, leases that take their keys with them, a change log to
 * watch from a revision, and an election. Each script runs atomically (Redis runs one script at a
 * time), so Traefik's Redis provider, whose reads are separate commands, never sees a script's
 * change in the middle.
 *
 * Bookkeeping lives under `appproxy/store/`, outside every root key (Traefik's Redis provider reads
 * the keys that start with its root key, `traefik*`):
 *
 * - `revision`: a counter, one step per applied change (the revision of every key it wrote);
 * - `epoch`: a random id written once; another one means a Redis that lost its data (a restart
 *   without persistence, a flush): watches from an old revision are then void;
 * - `index`: a sorted set of every key written through the store (score 0, so that ranges of keys
 *   are lexicographic ranges);
 * - `meta`: a hash, key → `<modRevision> <createRevision> <lease>`;
 * - `events`: a stream, one entry per change, id `<revision>-0`, field `ops` (JSON);
 * - `leases`: a sorted set, lease id → deadline (Redis's own clock, ms); `lease/<id>`: its time to
 *   live; `lease-keys/<id>`: its keys. A lease past its deadline is revoked by the next sweep of
 *   any instance: its keys are deleted as one change, which Traefik notices (a key that Redis
 *   expires by itself is not noticed by Traefik's Redis provider, so no data key has a TTL).
 */
export const STORE_PREFIX = 'appproxy/store/';

const COMMON = `
local P = '${STORE_PREFIX}'
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function epoch(candidate)
  local current = redis.call('GET', P .. 'epoch')
  if not current then
    redis.call('SET', P .. 'epoch', candidate)
    current = candidate
  end
  return current
end
local function meta(key)
  local m = redis.call('HGET', P .. 'meta', key)
  if not m then return nil end
  local mod, create, lease = string.match(m, '^(%d+) (%d+) (.*)$')
  return { mod = tonumber(mod), create = tonumber(create), lease = lease }
end
-- A lease past its deadline is gone, swept or not (as etcd refuses an expired lease).
local function lease_alive(lease)
  local deadline = redis.call('ZSCORE', P .. 'leases', lease)
  return deadline ~= false and deadline ~= nil and tonumber(deadline) >= now_ms()
end
local function detach(key, lease)
  if lease ~= '0' then redis.call('SREM', P .. 'lease-keys/' .. lease, key) end
end
local function put(rev, key, value, lease, ops)
  local m = meta(key)
  local create = rev
  if m then
    create = m.create
    if m.lease ~= lease then detach(key, m.lease) end
  end
  redis.call('SET', key, value)
  redis.call('HSET', P .. 'meta', key, rev .. ' ' .. create .. ' ' .. lease)
  redis.call('ZADD', P .. 'index', 0, key)
  if lease ~= '0' then redis.call('SADD', P .. 'lease-keys/' .. lease, key) end
  table.insert(ops, { 'put', key, value, lease })
end
local function del(key, ops)
  local m = meta(key)
  if not m then return end
  detach(key, m.lease)
  redis.call('DEL', key)
  redis.call('HDEL', P .. 'meta', key)
  redis.call('ZREM', P .. 'index', key)
  table.insert(ops, { 'delete', key })
end
local function range_keys(key, prefix)
  if prefix == '1' then
    return redis.call('ZRANGEBYLEX', P .. 'index', '[' .. key, '[' .. key .. '\\255')
  end
  if redis.call('HEXISTS', P .. 'meta', key) == 1 then return { key } end
  return {}
end
local bumped = false
local function next_revision()
  bumped = true
  return redis.call('INCR', P .. 'revision')
end
-- Every revision taken gets its entry in the change log, even one with nothing in it: a reader
-- waiting for a revision must see it pass. (cjson writes an empty table as {}, hence the literal.)
local function commit(ops)
  local rev = tonumber(redis.call('GET', P .. 'revision') or '0')
  if not bumped then return rev end
  local encoded = '[]'
  if #ops > 0 then encoded = cjson.encode(ops) end
  redis.call('XADD', P .. 'events', 'MAXLEN', '~', '20000', rev .. '-0', 'ops', encoded)
  return rev
end
local function revoke(lease, ops, rev)
  local keys = redis.call('SMEMBERS', P .. 'lease-keys/' .. lease)
  for _, key in ipairs(keys) do
    local m = meta(key)
    if m and m.lease == lease then
      redis.call('DEL', key)
      redis.call('HDEL', P .. 'meta', key)
      redis.call('ZREM', P .. 'index', key)
      table.insert(ops, { 'delete', key })
    end
  end
  redis.call('DEL', P .. 'lease-keys/' .. lease, P .. 'lease/' .. lease)
  redis.call('ZREM', P .. 'leases', lease)
end
`;

/**
 * ARGV: epoch candidate, range count, then key and prefix flag ('1'/'0') per range. → revision, epoch, then key, value,
 * lease, modRevision per entry.
 */
export const LOAD_SCRIPT = `${COMMON}
local e = epoch(ARGV[1])
local rev = tonumber(redis.call('GET', P .. 'revision') or '0')
local out = { tostring(rev), e }
local n = tonumber(ARGV[2])
for i = 0, n - 1 do
  local keys = range_keys(ARGV[3 + i * 2], ARGV[4 + i * 2])
  for _, key in ipairs(keys) do
    local value = redis.call('GET', key)
    local m = meta(key)
    if value and m then
      table.insert(out, key)
      table.insert(out, value)
      table.insert(out, m.lease)
      table.insert(out, tostring(m.mod))
    end
  end
end
return out
`;

/**
 * ARGV: epoch candidate, the plan's epoch ('' for none), lease id, fence key ('' for none), fence
 * create revision, fence epoch ('' for none), guard count, then key, prefix flag,
 * not-modified-after per guard, then op count, then type, key, value, leased flag per operation.
 * → applied (1/0), revision, fenced (1/0), epoch changed (1/0); an error when a leased put names a
 * lease that is gone. A plan or a fence of another epoch is refused: after a flush the revisions
 * start again, and every guard and leader key would otherwise pass against numbers of another life.
 */
export const APPLY_SCRIPT = `${COMMON}
local current = epoch(ARGV[1])
local function refused(fenced, changed)
  return { 0, tonumber(redis.call('GET', P .. 'revision') or '0'), fenced, changed }
end
if ARGV[2] ~= '' and ARGV[2] ~= current then return refused(0, 1) end
local lease = ARGV[3]
local at = 8
local fenceKey = ARGV[4]
if fenceKey ~= '' then
  local m = meta(fenceKey)
  if not m or m.create ~= tonumber(ARGV[5]) or (ARGV[6] ~= '' and ARGV[6] ~= current) then
    return refused(1, 0)
  end
end
local guards = tonumber(ARGV[7])
for i = 0, guards - 1 do
  local limit = tonumber(ARGV[at + i * 3 + 2])
  for _, key in ipairs(range_keys(ARGV[at + i * 3], ARGV[at + i * 3 + 1])) do
    local m = meta(key)
    if m and m.mod > limit then return refused(0, 0) end
  end
end
at = at + guards * 3
local count = tonumber(ARGV[at])
at = at + 1
for i = 0, count - 1 do
  if ARGV[at + i * 4] == 'put' and ARGV[at + i * 4 + 3] == '1' and not lease_alive(lease) then
    return redis.error_reply('LEASE_GONE lease ' .. lease .. ' not found')
  end
end
local rev = next_revision()
local ops = {}
for i = 0, count - 1 do
  local kind, key = ARGV[at + i * 4], ARGV[at + i * 4 + 1]
  if kind == 'put' then
    put(rev, key, ARGV[at + i * 4 + 2], ARGV[at + i * 4 + 3] == '1' and lease or '0', ops)
  else
    del(key, ops)
  end
end
commit(ops)
return { 1, rev, 0, 0 }
`;

/** ARGV: lease id, ttl seconds. */
export const GRANT_SCRIPT = `${COMMON}
redis.call('HSET', P .. 'lease/' .. ARGV[1], 'ttl', ARGV[2])
redis.call('ZADD', P .. 'leases', now_ms() + tonumber(ARGV[2]) * 1000, ARGV[1])
return 1
`;

/** ARGV: lease id. → 1 when refreshed; 0 when the lease is gone or past its deadline (it is never revived). */
export const KEEPALIVE_SCRIPT = `${COMMON}
local deadline = redis.call('ZSCORE', P .. 'leases', ARGV[1])
local ttl = redis.call('HGET', P .. 'lease/' .. ARGV[1], 'ttl')
local now = now_ms()
if not deadline or not ttl or tonumber(deadline) < now then return 0 end
-- ZREM first: Redis refuses a script's first write when it may grow memory (ZADD) at maxmemory,
-- but not one that frees it, and never stops a script after its first write. A full Redis must
-- still keep leases alive, or every route would go when it is freed (the sweep runs first).
redis.call('ZREM', P .. 'leases', ARGV[1])
redis.call('ZADD', P .. 'leases', now + tonumber(ttl) * 1000, ARGV[1])
return 1
`;

/** ARGV: lease id. → remaining ms, ttl seconds, then its keys; empty when gone or past its deadline. */
export const LEASE_INFO_SCRIPT = `${COMMON}
local deadline = redis.call('ZSCORE', P .. 'leases', ARGV[1])
local ttl = redis.call('HGET', P .. 'lease/' .. ARGV[1], 'ttl')
local remaining = deadline and (tonumber(deadline) - now_ms()) or -1
if not ttl or remaining < 0 then return {} end
local out = { tostring(remaining), ttl }
for _, key in ipairs(redis.call('SMEMBERS', P .. 'lease-keys/' .. ARGV[1])) do table.insert(out, key) end
return out
`;

/** ARGV: epoch candidate, lease id. Deletes the lease's keys as one change. → revision. */
export const REVOKE_SCRIPT = `${COMMON}
epoch(ARGV[1])
local ops = {}
local rev = tonumber(redis.call('GET', P .. 'revision') or '0')
if redis.call('EXISTS', P .. 'lease-keys/' .. ARGV[2]) == 1 then rev = next_revision() end
revoke(ARGV[2], ops, rev)
commit(ops)
return rev
`;

/** ARGV: epoch candidate. Revokes every lease past its deadline, all in one change. → how many. */
export const SWEEP_SCRIPT = `${COMMON}
epoch(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', P .. 'leases', '-inf', '(' .. now_ms(), 'LIMIT', 0, 1000)
if #expired == 0 then return 0 end
local ops = {}
local rev = next_revision()
for _, lease in ipairs(expired) do revoke(lease, ops, rev) end
commit(ops)
return #expired
`;

/**
 * ARGV: epoch candidate, leader key, value, lease id. Creates the leader key on the lease when it
 * is absent. → its create revision when this value holds it, 0 when another one does; then the
 * epoch (a leader's fence carries both).
 */
export const CAMPAIGN_SCRIPT = `${COMMON}
local current = epoch(ARGV[1])
local m = meta(ARGV[2])
if m then
  if redis.call('GET', ARGV[2]) == ARGV[3] and m.lease == ARGV[4] then return { m.create, current } end
  return { 0, current }
end
if not lease_alive(ARGV[4]) then return redis.error_reply('LEASE_GONE lease ' .. ARGV[4] .. ' not found') end
local rev = next_revision()
local ops = {}
put(rev, ARGV[2], ARGV[3], ARGV[4], ops)
commit(ops)
return { rev, current }
`;

/**
 * ARGV: epoch candidate, leader key, lease id. Deletes the leader key if this lease holds it, and revokes the lease.
 */
export const RESIGN_SCRIPT = `${COMMON}
epoch(ARGV[1])
local ops = {}
local m = meta(ARGV[2])
local rev = tonumber(redis.call('GET', P .. 'revision') or '0')
if m and m.lease == ARGV[3] then
  rev = next_revision()
  del(ARGV[2], ops)
end
if redis.call('EXISTS', P .. 'lease-keys/' .. ARGV[3]) == 1 or redis.call('EXISTS', P .. 'lease/' .. ARGV[3]) == 1 then
  if #ops == 0 then rev = next_revision() end
  revoke(ARGV[3], ops, rev)
end
commit(ops)
return rev
`;
