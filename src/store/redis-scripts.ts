/**
 * Lua scripts of the Redis store. Each runs atomically on the server, which is what makes
 * `commit` all-or-nothing across replicas without WATCH/MULTI retry loops.
 *
 * Conventions: KEYS carry every key a script touches (all share one `{prefix}` hash tag, so the
 * scripts stay valid on Redis Cluster). Structured input arrives as one cjson-encoded ARGV; user
 * payloads (already JSON text) travel as separate ARGV entries referenced by index, so they are
 * never re-parsed by cjson and cannot be mangled by it.
 */

/**
 * KEYS[1] feed sequence counter, KEYS[2] feed stream, KEYS[3..] doc/ver/log/lease keys.
 * ARGV[1] plan JSON: { f?: [leaseKeyIdx, token, leaseName],
 *   p: [[docIdx, verIdx, id, expect(-1 = none), valueArgIdx, collection, quiet(1 = off the feed)]],
 *   d: [[docIdx, verIdx, id, expect, collection, quiet]],
 *   a: [[logIdx, seq, entryArgIdx, logName]] }
 * ARGV[2] feed cap, ARGV[3] "~" or "=" trimming, ARGV[4..] JSON payloads.
 * Returns {"ok", head, v1, v2, ...} (versions in put order) or {"conflict", kind, reason}, kind
 * being fence, version or append (ConflictKind).
 */
export const COMMIT_LUA = `
local plan = cjson.decode(ARGV[1])
local cap, trim = ARGV[2], ARGV[3]

if plan.f then
  local tok = redis.call('HGET', KEYS[plan.f[1]], 'token')
  if not tok then
    return {'conflict', 'fence', 'fence: lease "' .. plan.f[3] .. '" is not held'}
  end
  if tonumber(tok) ~= plan.f[2] then
    return {'conflict', 'fence', 'fence: lease "' .. plan.f[3] .. '" token is ' .. tok .. ', not ' .. plan.f[2]}
  end
end

local function checkVersion(op, kind)
  if op[4] < 0 then return nil end
  local cur = tonumber(redis.call('HGET', KEYS[op[2]], op[3]) or '0')
  if cur ~= op[4] then
    local coll = (kind == 'put') and op[6] or op[5]
    return kind .. ' ' .. coll .. '/' .. op[3] .. ': expected version ' .. op[4] .. ', found ' .. cur
  end
  return nil
end
for _, op in ipairs(plan.p) do
  local bad = checkVersion(op, 'put')
  if bad then return {'conflict', 'version', bad} end
end
for _, op in ipairs(plan.d) do
  local bad = checkVersion(op, 'delete')
  if bad then return {'conflict', 'version', bad} end
end

-- Several appends to one log in a commit must be consecutive, so track the expected next seq.
local nextSeq = {}
for _, ap in ipairs(plan.a) do
  local n = nextSeq[ap[1]]
  if not n then
    local last = redis.call('XREVRANGE', KEYS[ap[1]], '+', '-', 'COUNT', 1)
    if #last == 0 then n = 1 else n = tonumber(string.match(last[1][1], '^(%d+)')) + 1 end
  end
  if ap[2] ~= n then
    return {'conflict', 'append', 'append ' .. ap[4] .. ': expected seq ' .. n .. ', got ' .. ap[2]}
  end
  nextSeq[ap[1]] = n + 1
end

local function feed(coll, id, version, value)
  local seq = redis.call('INCR', KEYS[1])
  redis.call('XADD', KEYS[2], 'MAXLEN', trim, cap, seq .. '-1',
    'collection', coll, 'id', id, 'version', version, 'value', value)
end

local out = {'ok', 0}
for _, op in ipairs(plan.p) do
  local v = tonumber(redis.call('HGET', KEYS[op[2]], op[3]) or '0') + 1
  local json = ARGV[op[5]]
  redis.call('HSET', KEYS[op[1]], op[3], json)
  redis.call('HSET', KEYS[op[2]], op[3], v)
  if op[7] ~= 1 then feed(op[6], op[3], v, json) end
  out[#out + 1] = v
end
for _, op in ipairs(plan.d) do
  local v = redis.call('HGET', KEYS[op[2]], op[3])
  if v then
    redis.call('HDEL', KEYS[op[1]], op[3])
    redis.call('HDEL', KEYS[op[2]], op[3])
    if op[6] ~= 1 then feed(op[5], op[3], tonumber(v), '') end
  end
end
for _, ap in ipairs(plan.a) do
  redis.call('XADD', KEYS[ap[1]], ap[2] .. '-1', 'e', ARGV[ap[3]])
end
out[2] = tonumber(redis.call('GET', KEYS[1]) or '0')
return out
`;

/** KEYS[1] lease hash, KEYS[2] fence counter; ARGV holder, ttlMs. Returns the token or nil. */
export const ACQUIRE_LUA = `
local holder = redis.call('HGET', KEYS[1], 'holder')
if not holder then
  local token = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'token', token)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return token
end
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('HGET', KEYS[1], 'token'))
end
return false
`;

/** KEYS[1] lease hash; ARGV holder. Deletes only when still held by that holder. */
export const RELEASE_LUA = `
if redis.call('HGET', KEYS[1], 'holder') == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * Adds to the counters of one hash (see redis-counters.ts for how numbers and vectors are kept).
 * KEYS[1] the hash; ARGV[1] TTL (s), ARGV[2] how many fields are numbers, then field/increment pairs:
 * the numbers' first, then the vectors' (packed). Every field's kind is checked before anything is
 * written, since a script that fails half way keeps what it wrote. Returns 0.
 */
export const INCREMENT_COUNTERS_LUA = `
local key, numbers = KEYS[1], tonumber(ARGV[2])
local byte, rep = string.byte, string.rep
local fields = {}
for i = 3, #ARGV, 2 do fields[#fields + 1] = ARGV[i] end
local current = {}
for from = 1, #fields, 500 do
  local part = redis.call('HMGET', key, unpack(fields, from, math.min(#fields, from + 499)))
  for i = 1, #part do current[from + i - 1] = part[i] end
end
-- A vector's first byte names the form of its elements (see redis-counters.ts): [tag] = {struct format, bytes}.
local FORMS = {[104] = {'I2', 2}, [117] = {'I4', 4}, [102] = {'d', 8}}
local function isVector(s) return FORMS[byte(s, 1)] ~= nil end
for i, f in ipairs(fields) do
  local c = current[i]
  if c and isVector(c) ~= (i > numbers) then
    return redis.error_reply('counter ' .. f .. ': holds a number in one place and a vector in another; a field keeps one kind')
  end
end
local function unpackVector(s)
  local form = FORMS[byte(s, 1)]
  local n = math.floor((#s - 1) / form[2])
  local v = {struct.unpack('<' .. rep(form[1], n), s, 2)}
  v[n + 1] = nil -- struct.unpack also returns where it stopped
  return v, n
end
local function packVector(v, n)
  local largest = 0
  for k = 1, n do
    local x = v[k]
    if x < 0 or x % 1 ~= 0 or x > 4294967295 then return 'f' .. struct.pack('<' .. rep('d', n), unpack(v, 1, n)) end
    if x > largest then largest = x end
  end
  if largest > 65535 then return 'u' .. struct.pack('<' .. rep('I4', n), unpack(v, 1, n)) end
  return 'h' .. struct.pack('<' .. rep('I2', n), unpack(v, 1, n))
end
for i = 1, numbers do redis.call('HINCRBYFLOAT', key, fields[i], ARGV[2 + 2 * i]) end
for i = numbers + 1, #fields do
  local value = ARGV[2 + 2 * i]
  if current[i] then
    local sum, n = unpackVector(current[i])
    local add, m = unpackVector(value)
    for k = 1, m do sum[k] = (sum[k] or 0) + add[k] end
    value = packVector(sum, math.max(n, m))
  end
  redis.call('HSET', key, fields[i], value)
end
redis.call('EXPIRE', key, ARGV[1])
return 0
`;

/**
 * Sums counter hashes per group. KEYS: the distinct bucket keys; ARGV[1]: JSON array of groups,
 * each a list of KEYS indexes. Each hash is read once even when it sits in several groups.
 * Returns an array: first JSON, an array with, per group, an object of field → sum (a number, or a
 * string where a number would lose digits) or, for a vector field, the list of its stored values:
 * their places in this array, where every stored vector the groups hold follows the JSON, once.
 * Node adds the vectors up (redis-counters.ts decodeSums): in Lua, element by element, they cost
 * Redis many times more, and as separate strings they are copied into the reply once.
 */
export const SUM_COUNTERS_LUA = `
local groups = cjson.decode(ARGV[1])
local read, placed = {}, {}
local reply = {''} -- the JSON goes first, once it is known
local out = {}
local floor, byte = math.floor, string.byte
for g, idxs in ipairs(groups) do
  local sums, vectors = {}, nil
  for _, i in ipairs(idxs) do
    local flat = read[i]
    if not flat then
      flat = redis.call('HGETALL', KEYS[i])
      read[i] = flat
      placed[i] = {}
    end
    local at = placed[i]
    for j = 1, #flat, 2 do
      local f, v = flat[j], flat[j + 1]
      local t = byte(v, 1)
      if t == 104 or t == 117 or t == 102 then -- a vector (see redis-counters.ts)
        local place = at[j]
        if not place then
          reply[#reply + 1] = v
          place = #reply - 1 -- counted from 0, as Node indexes the reply
          at[j] = place
        end
        vectors = vectors or {}
        local places = vectors[f]
        if places then places[#places + 1] = place else vectors[f] = {place} end
      else
        sums[f] = (sums[f] or 0) + tonumber(v)
      end
    end
  end
  -- cjson writes numbers with 14 significant digits: exact for the integer counts, so only a sum
  -- it would round (a fractional latency sum, a huge count) travels as a string with all 17.
  for f, v in pairs(sums) do
    if v ~= floor(v) or math.abs(v) >= 1e14 then sums[f] = string.format('%.17g', v) end
  end
  if vectors then
    for f, places in pairs(vectors) do
      if sums[f] then
        return redis.error_reply('counter ' .. f .. ': holds a number in one place and a vector in another; a field keeps one kind')
      end
      sums[f] = places
    end
  end
  -- An empty Lua table encodes as {} (an object), which is what an empty group means.
  out[g] = sums
end
-- One JSON string for all groups: parsed natively in Node, far cheaper than a nested RESP reply.
reply[1] = cjson.encode(out)
return reply
`;
