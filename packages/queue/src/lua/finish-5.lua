--[[
  Finishes a job: completed with its result, or failed with its error. With an empty
  fence it is an operator's cancel: no fence check, and the fence is cleared so the
  running attempt's next write is rejected.

  KEYS[1] row hash   KEYS[2] heartbeat index   KEYS[3] update index
  KEYS[4] override index   KEYS[5] history list
  ARGV[1] key base   ARGV[2] job id   ARGV[3] fence token ('' = cancel)
  ARGV[4] 'completed' | 'failed'   ARGV[5] result JSON   ARGV[6] error message
  ARGV[7] error stage   ARGV[8] retention of the finished row (ms)
  ARGV[9] max history entries   ARGV[10] history entry JSON

  Returns {1, previousStatus}; {-1} missing; {-2} superseded fence; {-3, status} already finished.
]]
--- @include common

local base = ARGV[1]
local id = ARGV[2]
local current = redis.call('HMGET', KEYS[1], 'fence', 'status', 'started_at', 'created_at',
  'idempotency_key', 'current_stage')
if not current[2] then
  return {-1}
end
if ARGV[3] ~= '' and current[1] ~= ARGV[3] then
  return {-2}
end
if is_terminal(current[2]) then
  return {-3, current[2]}
end

local now = now_ms()
local started = tonumber(current[3]) or tonumber(current[4]) or now
redis.call('HSET', KEYS[1], 'status', ARGV[4], 'completed_at', now, 'updated_at', now,
  'duration_ms', now - started)
if ARGV[4] == 'completed' then
  redis.call('HSET', KEYS[1], 'result', ARGV[5], 'progress', 100, 'error', '', 'error_stage', '')
else
  local stage = ARGV[7]
  if stage == '' and current[6] then
    stage = current[6]
  end
  redis.call('HSET', KEYS[1], 'error', ARGV[6], 'error_stage', stage)
end
if ARGV[3] == '' then
  redis.call('HSET', KEYS[1], 'fence', '')
end
redis.call('ZREM', KEYS[2], id)
redis.call('ZREM', KEYS[3], id)
redis.call('ZREM', KEYS[4], id)
move_state(base, id, current[2], ARGV[4], now)
push_history(KEYS[5], now, ARGV[10], tonumber(ARGV[9]))

local retention = tonumber(ARGV[8])
redis.call('PEXPIRE', KEYS[1], retention)
redis.call('PEXPIRE', KEYS[5], retention)
if current[5] and current[5] ~= '' then
  redis.call('PEXPIRE', base .. 'idem:' .. current[5], retention)
end
redis.call('ZREMRANGEBYSCORE', base .. 'status-idx:state:' .. ARGV[4], '-inf', '(' .. (now - retention))
return {1, current[2]}
