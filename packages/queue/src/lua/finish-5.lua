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

  Returns {1, previousStatus, row fields…}; {-1} missing; {-2} superseded fence; {-3, status} already finished.
]]
--- @include common
--- @include finish

local reply = finish_job(ARGV[1], KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[2], ARGV[3],
  ARGV[4], ARGV[5], ARGV[6], ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10])
if reply[1] == 1 then
  for _, value in ipairs(redis.call('HGETALL', KEYS[1])) do
    reply[#reply + 1] = value
  end
end
return reply
