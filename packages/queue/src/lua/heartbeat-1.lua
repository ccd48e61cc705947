--[[
  Records the heartbeat of many running jobs of one queue in one call, and of the linked
  background_jobs rows of scraping sessions and imports.

  KEYS[1] heartbeat index
  ARGV[1] key base   ARGV[2..] job id, fence token pairs

  Returns the ids whose fence was superseded or which are no longer running.
]]
--- @include common

local now = now_ms()
local base = ARGV[1]
local rejected = {}
local members = {}
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local row = base .. 'status:' .. id
  local current = redis.call('HMGET', row, 'fence', 'status', 'background_job_id')
  if current[1] == ARGV[i + 1] and is_running(current[2]) then
    redis.call('HSET', row, 'last_heartbeat', now)
    if current[3] and current[3] ~= '' then
      -- Only the heartbeat changed: copy it, unless the linked row is gone (then rebuild it).
      local linked = base .. 'background-job:' .. current[3]
      if redis.call('EXISTS', linked) == 1 then
        redis.call('HSET', linked, 'last_heartbeat', now)
      else
        sync_linked(base, row, current[3], nil)
      end
    end
    members[#members + 1] = now
    members[#members + 1] = id
    -- ZADD in chunks: unpack() has a stack limit.
    if #members >= 1000 then
      redis.call('ZADD', KEYS[1], unpack(members))
      members = {}
    end
  else
    rejected[#rejected + 1] = id
  end
end
if #members > 0 then
  redis.call('ZADD', KEYS[1], unpack(members))
end
return rejected
