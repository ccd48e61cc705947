--[[
  The one compare-and-set recovery (the executor's and `recover()`'s): restart or fail, applied
  only if the row still has the fence and restart count observed, so two monitors racing over one
  stuck job give one recovery; a linked background_jobs row follows in the same step; plus, in the same atomic step, the failure kind on the row and, when an alert is
  due, an outbox entry numbered by the row's incident counter. A crash right after this script
  cannot lose the alert: any monitor delivers what is in the outbox.

  KEYS[1] row hash   KEYS[2] heartbeat index   KEYS[3] update index
  KEYS[4] override index   KEYS[5] history list   KEYS[6] alert outbox hash
  ARGV[1] key base   ARGV[2] job id   ARGV[3] expected fence ('' = none)
  ARGV[4] expected restart count   ARGV[5] 'restart' | 'fail'   ARGV[6] new fence (restart)
  ARGV[7] error message (fail)   ARGV[8] retention of a failed row (ms)
  ARGV[9] max history entries   ARGV[10] history entry JSON
  ARGV[11] failure kind (fail; '' for a restart)   ARGV[12] alert JSON ('' = no alert)

  Returns {1, restartCount, incident (0 = no alert)}; {0, reason} when the row changed
  meanwhile; {-1} missing.
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
  redis.call('HSET', KEYS[1], 'status', 'failed', 'fence', '', 'error', ARGV[7], 'failure_kind', ARGV[11],
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
-- Fields are spliced in (not decoded and encoded again) so the entry's numbers keep their form.
local function with_field(json, name, value_json)
  if json == '{}' or json == '' then
    return '{"' .. name .. '":' .. value_json .. '}'
  end
  return '{"' .. name .. '":' .. value_json .. ',' .. string.sub(json, 2)
end
local history = ARGV[10]
if ARGV[11] ~= '' then
  history = with_field(history, 'failureKind', cjson.encode(ARGV[11]))
end
local incident = 0
if ARGV[12] ~= '' then
  incident = redis.call('HINCRBY', KEYS[1], 'incident_count', 1)
  redis.call('HSET', KEYS[6], id .. ':' .. incident,
    '{"jobId":' .. cjson.encode(id) .. ',"incident":' .. incident .. ',"at":' .. now .. ',"alert":' .. ARGV[12] .. '}')
  history = with_field(history, 'incident', tostring(incident))
end
push_history(KEYS[5], now, history, tonumber(ARGV[9]))
return {1, restarts, incident}
