--[[
  Saves one stage's checkpoint if the writer still holds the job's fence, clears the
  stage's resume state, and (optionally) records the status progress in the same step (and
  in the linked background_jobs row of a scraping session or import).

  KEYS[1] status row hash   KEYS[2] checkpoints hash   KEYS[3] resume-states hash
  KEYS[4] status update index
  ARGV[1] job id   ARGV[2] stage   ARGV[3] fence token   ARGV[4] data JSON   ARGV[5] sha256
  ARGV[6] stage index   ARGV[7] schema version   ARGV[8] attempt
  ARGV[9] next stage ('' = leave current_stage)   ARGV[10] overall percent ('' = no progress write)
  ARGV[11] retention (ms): the checkpoints expire this long after the job's last save

  Returns {1, now}; -1 no status row; -2 superseded fence; -3 the job is not running.
]]
--- @include common
--- @include checkpoint

local refused = fence_error(KEYS[1], ARGV[3])
if refused then
  return refused
end

local now = now_ms()
write_checkpoint(KEYS[2], KEYS[3], ARGV[2], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[3], now, ARGV[11])
if ARGV[10] ~= '' then
  local fields = {'progress', ARGV[10], 'updated_at', now}
  if ARGV[9] ~= '' then
    fields[#fields + 1] = 'current_stage'
    fields[#fields + 1] = ARGV[9]
  end
  redis.call('HSET', KEYS[1], unpack(fields))
  redis.call('ZADD', KEYS[4], now, ARGV[1])
  -- A scraping session's or import's linked background_jobs row takes the progress too. The
  -- key base is the row key without its "status:<id>" tail.
  local base = string.sub(KEYS[1], 1, #KEYS[1] - #('status:' .. ARGV[1]))
  sync_linked(base, KEYS[1], redis.call('HGET', KEYS[1], 'background_job_id'), nil)
end
return {1, now}
