--[[
  Records a worker process's registry heartbeat: the store's clock, so the failover
  watcher compares it with Redis TIME and never with a worker's clock.

  KEYS[1] heartbeats hash
  ARGV[1] worker id

  Returns now (ms since the epoch, Redis TIME).
]]
--- @include common

local now = now_ms()
redis.call('HSET', KEYS[1], ARGV[1], now)
return now
