--[[
  Saves one stage's checkpoint if the writer still holds the job's fence, clears the
  stage's resume state, and (optionally) records the status progress in the same step.

  KEYS[1] status row hash   KEYS[2] checkpoints hash   KEYS[3] resume-states hash
  KEYS[4] status update index
  ARGV[1] job id   ARGV[2] stage   ARGV[3] fence token   ARGV[4] data JSON   ARGV[5] sha256
  ARGV[6] stage index   ARGV[7] schema version   ARGV[8] attempt
  ARGV[9] next stage ('' = leave current_stage)   ARGV[10] overall percent ('' = no progress write)
  ARGV[11] retention (ms): the checkpoints expire this long after the job's last save

  Returns {1, now}; -1 no status row; -2 superseded fence; -3 the job is not running.
]]
--- @include common

local current = redis.call('HMGET', KEYS[1], 'fence', 'status')
if not current[2] then
  return {-1}
end
if current[1] ~= ARGV[3] then
  return {-2}
end
if not is_running(current[2]) then
  return {-3}
end

local now = now_ms()
local meta = cjson.encode({
  stageIndex = tonumber(ARGV[6]),
  sha256 = ARGV[5],
  schemaVersion = tonumber(ARGV[7]),
  attempt = tonumber(ARGV[8]),
  fence = ARGV[3],
  bytes = string.len(ARGV[4]),
})
-- createdAt is appended as text: cjson would print a 13-digit number in exponent form.
meta = string.sub(meta, 1, -2) .. ',"createdAt":' .. now .. '}'
redis.call('HSET', KEYS[2], ARGV[2], meta, ARGV[2] .. '#data', ARGV[4])
redis.call('HDEL', KEYS[3], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[11])
if ARGV[10] ~= '' then
  local fields = {'progress', ARGV[10], 'updated_at', now}
  if ARGV[9] ~= '' then
    fields[#fields + 1] = 'current_stage'
    fields[#fields + 1] = ARGV[9]
  end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('ZADD', KEYS[4], now, ARGV[1])
end
return {1, now}
