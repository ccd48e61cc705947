--[[
  A worker's final failure with its alert: finish-5's fail (fence-checked, `failure_kind:
  processing`) plus, in the same atomic step, the "processing failed" alert written to the alert
  outbox under the row's next incident number. A worker dying right after this script loses no
  alert, and no alert exists for a failure that was refused (superseded fence, finished row).

  KEYS[1] row hash   KEYS[2] heartbeat index   KEYS[3] update index
  KEYS[4] override index   KEYS[5] history list   KEYS[6] alert outbox hash
  ARGV[1] key base   ARGV[2] job id   ARGV[3] fence token (never '')
  ARGV[4] error message   ARGV[5] error stage   ARGV[6] retention of the finished row (ms)
  ARGV[7] max history entries   ARGV[8] history entry JSON   ARGV[9] alert JSON

  Returns {1, previousStatus, incident, row fields…}; {-1} missing; {-2} superseded fence;
  {-3, status} already finished.
]]
--- @include common
--- @include finish

local id = ARGV[2]
local reply = finish_job(ARGV[1], KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], id, ARGV[3],
  'failed', 'null', ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8])
if reply[1] ~= 1 then
  return reply
end
local incident = redis.call('HINCRBY', KEYS[1], 'incident_count', 1)
redis.call('HSET', KEYS[6], id .. ':' .. incident,
  '{"jobId":' .. cjson.encode(id) .. ',"incident":' .. incident .. ',"at":' .. now_ms() .. ',"alert":' .. ARGV[9] .. '}')
-- The failure's history entry (just pushed by finish_job) names its incident, as a recovery's does.
local last = redis.call('LINDEX', KEYS[5], -1)
if last then
  redis.call('LSET', KEYS[5], -1, '{"incident":' .. incident .. ',' .. string.sub(last, 2))
end
reply[3] = incident
for _, value in ipairs(redis.call('HGETALL', KEYS[1])) do
  reply[#reply + 1] = value
end
return reply
