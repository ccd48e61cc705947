--[[
  Starts an attempt: status processing, attempt + 1, the attempt's fence token and worker.
  A scraping session or import updates its linked background_jobs row in the same step.

  KEYS[1] row hash   KEYS[2] heartbeat index   KEYS[3] update index   KEYS[4] history list
  ARGV[1] key base   ARGV[2] job id   ARGV[3] fence token   ARGV[4] worker id
  ARGV[5] stage ('' keeps the current one)   ARGV[6] resumed-from stage ('' when none)
  ARGV[7] max history entries

  Returns {1, attempt, now, row fields…} (the row as HGETALL gives it); {-1} when the row does not
  exist; {-3, status} when it is finished.
]]
--- @include common

local id = ARGV[2]
local current = redis.call('HMGET', KEYS[1], 'status', 'background_job_id', 'started_at')
local status = current[1]
if not status then
  return {-1}
end
if is_terminal(status) then
  return {-3, status}
end

local now = now_ms()
local attempt = redis.call('HINCRBY', KEYS[1], 'attempt', 1)
-- One HSET: the stage and the first start ride along when they apply.
local fields = {'status', 'processing', 'fence', ARGV[3], 'worker_id', ARGV[4],
  'last_heartbeat', now, 'updated_at', now, 'error', '', 'error_stage', '', 'resumed_from', ARGV[6]}
if ARGV[5] ~= '' then
  fields[#fields + 1] = 'current_stage'
  fields[#fields + 1] = ARGV[5]
end
if not current[3] then
  fields[#fields + 1] = 'started_at'
  fields[#fields + 1] = now
end
redis.call('HSET', KEYS[1], unpack(fields))
move_state(ARGV[1], id, status, 'processing', now)
redis.call('ZADD', KEYS[2], now, id)
redis.call('ZADD', KEYS[3], now, id)
local entry = cjson.encode({event = 'processing', attempt = attempt, workerId = ARGV[4],
  resumedFrom = ARGV[6] ~= '' and ARGV[6] or nil, stage = ARGV[5] ~= '' and ARGV[5] or nil})
push_history(KEYS[4], now, entry, tonumber(ARGV[7]))
sync_linked(ARGV[1], KEYS[1], current[2], nil)
local reply = {1, attempt, now}
for _, value in ipairs(redis.call('HGETALL', KEYS[1])) do
  reply[#reply + 1] = value
end
return reply
