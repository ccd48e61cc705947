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

-- The linked background_jobs row of a scraping session or import (the row's
-- `background_job_id`): the Redis form of the Supabase store's kai_sync_follower trigger.
-- Every script that changes such a row calls this before it returns, so the linked row moves
-- in the same atomic step (a crash cannot leave one updated without the other). Its key,
-- <base>background-job:<id>, carries the row's {hash tag}: one slot, one script on a cluster.
-- As the trigger's upsert, a missing linked row is created; status 'scraping' reads 'processing'
-- (background_jobs has no scraping); refs gain sessionId / importJobId; created_at is kept.
-- retention: ms, when the row has just finished (the linked row expires with it); nil otherwise.
local LINKED_COPIED = {'progress', 'current_stage', 'progress_detail', 'last_heartbeat', 'error',
  'error_stage', 'attempt', 'worker_id', 'restart_count', 'updated_at', 'started_at',
  'completed_at', 'duration_ms'}

local function sync_linked(base, row_key, link, retention)
  if not link or link == '' then
    return
  end
  local head = redis.call('HMGET', row_key, 'id', 'type', 'status', 'created_at')
  if not head[1] then
    return
  end
  local values = redis.call('HMGET', row_key, unpack(LINKED_COPIED))
  local key = base .. 'background-job:' .. link
  local status = head[3]
  if status == 'scraping' then
    status = 'processing'
  end
  local fields = {'id', link, 'job_type', head[2], 'bullmq_job_id', head[1], 'status', status}
  for i, name in ipairs(LINKED_COPIED) do
    fields[#fields + 1] = name
    fields[#fields + 1] = values[i] or ''
  end
  local ref_name = head[2] == 'scrape' and 'sessionId' or 'importJobId'
  local refs_json = redis.call('HGET', key, 'refs')
  local refs = {}
  if refs_json then
    local ok, decoded = pcall(cjson.decode, refs_json)
    if ok and type(decoded) == 'table' then
      refs = decoded
    end
  end
  if refs[ref_name] ~= head[1] or not refs_json then
    refs[ref_name] = head[1]
    fields[#fields + 1] = 'refs'
    fields[#fields + 1] = cjson.encode(refs)
  end
  redis.call('HSET', key, unpack(fields))
  redis.call('HSETNX', key, 'created_at', head[4] or '')
  if retention then
    redis.call('PEXPIRE', key, retention)
  else
    redis.call('PERSIST', key)
  end
end
