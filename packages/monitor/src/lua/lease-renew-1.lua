--[[
  Extends the leader lease if it is still held under the caller's epoch.

  KEYS[1] lease
  ARGV[1] expected value ("<epoch>|<holder>")   ARGV[2] lease duration (ms)

  Returns 1 when extended; 0 when the lease expired or another epoch holds it.
]]

if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
return 0
