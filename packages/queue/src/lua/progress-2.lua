--[[
  Records progress of a running attempt: stage, percentage, detail, counters. A scraping
  session or import updates its linked background_jobs row in the same step.

  KEYS[1] row hash   KEYS[2] update index
  ARGV[1] key base   ARGV[2] job id   ARGV[3] fence token
  ARGV[4] 'scraping' to move a session from processing to scraping, else ''
  ARGV[5..] field, value pairs

  Returns 1; -1 missing row; -2 superseded fence; -3 finished or not running.
]]
--- @include common

local id = ARGV[2]
local current = redis.call('HMGET', KEYS[1], 'fence', 'status', 'background_job_id')
if not current[2] then
  return -1
end
if current[1] ~= ARGV[3] then
  return -2
end
if not is_running(current[2]) then
  return -3
end

local now = now_ms()
local fields = {'updated_at', now}
for i = 5, #ARGV, 2 do
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
end
redis.call('HSET', KEYS[1], unpack(fields))
if ARGV[4] == 'scraping' and current[2] == 'processing' then
  redis.call('HSET', KEYS[1], 'status', 'scraping')
  move_state(ARGV[1], id, 'processing', 'scraping', now)
end
redis.call('ZADD', KEYS[2], now, id)
sync_linked(ARGV[1], KEYS[1], current[3], nil)
return 1
