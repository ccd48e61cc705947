--[[
  Takes the failover watcher's leader lease if nobody holds it, with a new fencing epoch.

  KEYS[1] lease (string "<epoch>|<holder>")   KEYS[2] epoch counter
  ARGV[1] holder id   ARGV[2] lease duration (ms)

  Returns {1, epoch} when taken; {0, current value} when another holder has it.
]]

local current = redis.call('GET', KEYS[1])
if current then
  return {0, current}
end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], epoch .. '|' .. ARGV[1], 'PX', tonumber(ARGV[2]))
return {1, epoch}
