--[[
  Creates a pending status row, idempotently. A scraping session or import with a
  background_job_id field creates or updates its linked background_jobs row in the same step.

  KEYS[1] row hash            KEYS[2] idempotency key (a placeholder when none)
  KEYS[3] update index        KEYS[4] override index       KEYS[5] history list
  ARGV[1] key base            ARGV[2] job id               ARGV[3] '1' when an idempotency key is given
  ARGV[4] max history entries ARGV[5] history entry JSON   ARGV[6..] field, value pairs of the row

  Returns {1, id, now} when created (the row is exactly the fields written: the caller builds it
  without reading it back); {0, existingId} when the id or idempotency key already exists.
]]
--- @include common

local id = ARGV[2]
if ARGV[3] == '1' then
  local existing = redis.call('GET', KEYS[2])
  if existing then
    return {0, existing}
  end
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, id}
end

local now = now_ms()
local fields = {'id', id, 'status', 'pending', 'attempt', 0, 'restart_count', 0, 'progress', 0,
  'created_at', now, 'updated_at', now}
local has_override = false
local link = nil
for i = 6, #ARGV, 2 do
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
  if ARGV[i] == 'heartbeat_timeout_ms' or ARGV[i] == 'update_timeout_ms' then
    has_override = true
  elseif ARGV[i] == 'background_job_id' then
    link = ARGV[i + 1]
  end
end
redis.call('HSET', KEYS[1], unpack(fields))
if ARGV[3] == '1' then
  redis.call('SET', KEYS[2], id)
end
redis.call('ZADD', KEYS[3], now, id)
if has_override then
  redis.call('ZADD', KEYS[4], now, id)
end
move_state(ARGV[1], id, nil, 'pending', now)
push_history(KEYS[5], now, ARGV[5], tonumber(ARGV[4]))
sync_linked(ARGV[1], KEYS[1], link, nil)
return {1, id, now}
