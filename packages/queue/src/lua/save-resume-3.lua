--[[
  Saves a running stage's intra-stage resume state if the writer still holds the fence.
  Counts as progress: updated_at moves (a long stage that saves state is not stuck).

  KEYS[1] status row hash   KEYS[2] resume-states hash   KEYS[3] status update index
  ARGV[1] job id   ARGV[2] stage   ARGV[3] fence token   ARGV[4] state JSON   ARGV[5] attempt
  ARGV[6] retention (ms)

  Returns {1, now}; -1 no status row; -2 superseded fence; -3 the job is not running.
]]
--- @include common
--- @include checkpoint

local refused = fence_error(KEYS[1], ARGV[3])
if refused then
  return refused
end
local now = now_ms()
local entry = '{"savedAt":' .. now .. ',"attempt":' .. tonumber(ARGV[5]) .. ',"fence":' ..
  cjson.encode(ARGV[3]) .. ',"state":' .. ARGV[4] .. '}'
redis.call('HSET', KEYS[2], ARGV[2], entry)
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('HSET', KEYS[1], 'updated_at', now)
redis.call('ZADD', KEYS[3], now, ARGV[1])
return {1, now}
