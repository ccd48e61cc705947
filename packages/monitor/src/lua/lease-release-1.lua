--[[
  Gives the leader lease up if it is still held under the caller's epoch, so another
  watcher can take it at once instead of waiting for it to expire.

  KEYS[1] lease
  ARGV[1] expected value ("<epoch>|<holder>")

  Returns 1 when released; 0 otherwise.
]]

if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
