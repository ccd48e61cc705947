--[[
  The monitor's compare-and-set recovery. Applied only if the row still has the fence and
  restart count the monitor observed, so two monitors racing over one stuck job give one
  recovery. A scraping session or import updates its linked background_jobs row in the same
  step (failed with the error, or back to pending).

  KEYS[1] row hash   KEYS[2] heartbeat index   KEYS[3] update index
  KEYS[4] override index   KEYS[5] history list
  ARGV[1] key base   ARGV[2] job id   ARGV[3] expected fence ('' = none)
  ARGV[4] expected restart count   ARGV[5] 'restart' | 'fail'   ARGV[6] new fence (restart)
  ARGV[7] error message (fail)   ARGV[8] retention of a failed row (ms)
  ARGV[9] max history entries   ARGV[10] history entry JSON

  Returns {1, restartCount}; {0, reason} when the row changed meanwhile; {-1} missing.
]]
--- @include common

local base = ARGV[1]
local id = ARGV[2]
local current = redis.call('HMGET', KEYS[1], 'fence', 'status', 'restart_count', 'started_at',
  'created_at', 'idempotency_key', 'current_stage', 'background_job_id')
if not current[2] then
  return {-1}
end
if is_terminal(current[2]) then
  return {0, 'finished'}
end
if (current[1] or '') ~= ARGV[3] then
  return {0, 'fence_changed'}
end
local restarts = tonumber(current[3]) or 0
if restarts ~= tonumber(ARGV[4]) then
  return {0, 'restart_count_changed'}
end

local now = now_ms()
if ARGV[5] == 'restart' then
  restarts = restarts + 1
  redis.call('HSET', KEYS[1], 'status', 'pending', 'fence', ARGV[6], 'worker_id', '',
    'restart_count', restarts, 'updated_at', now)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[3], now, id)
  move_state(base, id, current[2], 'pending', now)
else
  local started = tonumber(current[4]) or tonumber(current[5]) or now
  redis.call('HSET', KEYS[1], 'status', 'failed', 'fence', '', 'error', ARGV[7],
    'error_stage', current[7] or '', 'completed_at', now, 'updated_at', now, 'duration_ms', now - started)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
  move_state(base, id, current[2], 'failed', now)
  local retention = tonumber(ARGV[8])
  redis.call('PEXPIRE', KEYS[1], retention)
  redis.call('PEXPIRE', KEYS[5], retention)
  if current[6] and current[6] ~= '' then
    redis.call('PEXPIRE', base .. 'idem:' .. current[6], retention)
  end
end
sync_linked(base, KEYS[1], current[8], ARGV[5] == 'fail' and tonumber(ARGV[8]) or nil)
push_history(KEYS[5], now, ARGV[10], tonumber(ARGV[9]))
return {1, restarts}
