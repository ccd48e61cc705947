--[[
  Finds unfinished jobs whose heartbeat or update is older than a threshold, by the
  store's clock. Uses the sorted-set indexes: O(log N + found), never a scan. Jobs with
  per-job thresholds (the override index, kept small) are judged by their own. Each
  candidate's row is read here too: a row read in a later round trip may belong to an
  attempt that started since (fresh heartbeat, new fence), and the monitor would judge that
  attempt by the old one's age.

  KEYS[1] heartbeat index   KEYS[2] update index   KEYS[3] override index
  ARGV[1] key base   ARGV[2] heartbeat threshold ms ('' = skip)
  ARGV[3] update threshold ms ('' = skip)   ARGV[4] limit

  Returns {now, id1, reason1, age1, n1, <n1 row fields and values, as HGETALL gives them>, id2, ...};
  a candidate whose row is gone is left out.
]]
--- @include common

local base = ARGV[1]
local hb_threshold = tonumber(ARGV[2])
local upd_threshold = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local now = now_ms()
local found = {}
local seen = {}
local count = 0

local function add(id, reason, age)
  if seen[id] or count >= limit then
    return
  end
  seen[id] = true
  count = count + 1
  found[#found + 1] = {id, reason, age}
end

local overridden = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  overridden[id] = true
  local own = redis.call('HMGET', base .. 'status:' .. id, 'heartbeat_timeout_ms', 'update_timeout_ms')
  local hb_t = tonumber(own[1]) or hb_threshold
  local upd_t = tonumber(own[2]) or upd_threshold
  local hb_score = tonumber(redis.call('ZSCORE', KEYS[1], id))
  local upd_score = tonumber(redis.call('ZSCORE', KEYS[2], id))
  if hb_t and hb_score and now - hb_score > hb_t then
    add(id, 'heartbeat_timeout', now - hb_score)
  elseif upd_t and upd_score and now - upd_score > upd_t then
    add(id, 'update_timeout', now - upd_score)
  end
end

local function scan(key, threshold, reason)
  if not threshold then
    return
  end
  -- Fetch a little more than the limit: overridden jobs in range are skipped.
  local found = redis.call('ZRANGEBYSCORE', key, '-inf', '(' .. (now - threshold), 'WITHSCORES',
    'LIMIT', 0, limit + 100)
  for i = 1, #found, 2 do
    local id = found[i]
    if not overridden[id] then
      add(id, reason, now - tonumber(found[i + 1]))
    end
  end
end

scan(KEYS[1], hb_threshold, 'heartbeat_timeout')
scan(KEYS[2], upd_threshold, 'update_timeout')

local out = {now}
for _, candidate in ipairs(found) do
  local row = redis.call('HGETALL', base .. 'status:' .. candidate[1])
  if #row > 0 then
    out[#out + 1] = candidate[1]
    out[#out + 1] = candidate[2]
    out[#out + 1] = candidate[3]
    out[#out + 1] = #row
    for _, value in ipairs(row) do
      out[#out + 1] = value
    end
  end
end
return out
