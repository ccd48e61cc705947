--[[
  The last stage's checkpoint and the job's completion in one atomic step: nothing can
  fall between them, and it costs one round trip instead of two.

  KEYS[1] status row hash   KEYS[2] checkpoints hash   KEYS[3] resume-states hash
  KEYS[4] status heartbeat index   KEYS[5] status update index   KEYS[6] status override index
  KEYS[7] history list
  ARGV[1] key base   ARGV[2] job id   ARGV[3] stage   ARGV[4] fence token   ARGV[5] data JSON
  ARGV[6] sha256   ARGV[7] stage index   ARGV[8] schema version   ARGV[9] attempt
  ARGV[10] checkpoint retention (ms)   ARGV[11] result JSON   ARGV[12] row retention (ms)
  ARGV[13] max history entries

  Returns {1, now}; -1 no status row; -2 superseded fence; -3 the job is not running.
]]
--- @include common
--- @include finish
--- @include checkpoint

local refused = fence_error(KEYS[1], ARGV[4])
if refused then
  return refused
end

local now = now_ms()
write_checkpoint(KEYS[2], KEYS[3], ARGV[3], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[4], now, ARGV[10])
local finished = finish_job(ARGV[1], KEYS[1], KEYS[4], KEYS[5], KEYS[6], KEYS[7], ARGV[2], ARGV[4],
  'completed', ARGV[11], '', '', tonumber(ARGV[12]), tonumber(ARGV[13]), '{"event":"completed"}', now)
if finished[1] ~= 1 then
  return finished
end
return {1, now}
