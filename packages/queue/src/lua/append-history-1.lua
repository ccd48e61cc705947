--[[
  Appends an entry to a job's history, stamped with the store's clock.

  KEYS[1] history list
  ARGV[1] entry JSON (an object)   ARGV[2] max history entries

  Returns the history length.
]]
--- @include common

push_history(KEYS[1], now_ms(), ARGV[1], tonumber(ARGV[2]))
return redis.call('LLEN', KEYS[1])
