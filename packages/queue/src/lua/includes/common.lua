-- Shared helpers, inlined into each script by lua-scripts.ts at "--- @include common".

-- The store's clock in ms. Liveness is judged by Redis TIME, never the caller's clock.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function is_terminal(status)
  return status == 'completed' or status == 'failed'
end

local function is_running(status)
  return status == 'processing' or status == 'scraping'
end

-- Moves a job between the per-status listing indexes.
local function move_state(base, id, from, to, now)
  if from and from ~= '' then
    redis.call('ZREM', base .. 'status-idx:state:' .. from, id)
  end
  redis.call('ZADD', base .. 'status-idx:state:' .. to, now, id)
end

-- Appends a history entry (a JSON object string) stamped with the store's time.
local function push_history(key, now, json, max)
  local entry
  if json == '{}' or json == '' then
    entry = '{"at":' .. now .. '}'
  else
    entry = '{"at":' .. now .. ',' .. string.sub(json, 2)
  end
  if redis.call('RPUSH', key, entry) > max then
    redis.call('LTRIM', key, -max, -1)
  end
end
