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
-- Cost: 4 extra commands per script (HMGET, HGET, HSET, PERSIST; 2 more on the first write).
-- retention: ms, when the row has just finished (the linked row expires with it); nil otherwise.
-- The row fields sync_linked reads in one HMGET: the first LINKED_HEAD are copied as they are,
-- the last four (id, type, status, created_at) are mapped.
local LINKED_COPIED = {'progress', 'current_stage', 'progress_detail', 'last_heartbeat', 'error',
  'error_stage', 'attempt', 'worker_id', 'restart_count', 'updated_at', 'started_at',
  'completed_at', 'duration_ms', 'id', 'type', 'status', 'created_at'}
local LINKED_HEAD = #LINKED_COPIED - 4

local function sync_linked(base, row_key, link, retention)
  if not link or link == '' then
    return
  end
  local values = redis.call('HMGET', row_key, unpack(LINKED_COPIED))
  local id, job_type, status, created_at = values[LINKED_HEAD + 1], values[LINKED_HEAD + 2],
    values[LINKED_HEAD + 3], values[LINKED_HEAD + 4]
  if not id then
    return
  end
  local key = base .. 'background-job:' .. link
  if status == 'scraping' then
    status = 'processing'
  end
  local fields = {'status', status}
  for i = 1, LINKED_HEAD do
    fields[#fields + 1] = LINKED_COPIED[i]
    fields[#fields + 1] = values[i] or ''
  end
  -- First write for this row (or the row was rebuilt, or another session took the link over):
  -- the identity fields, refs merged, created_at kept if there was one.
  if redis.call('HGET', key, 'bullmq_job_id') ~= id then
    local ref_name = job_type == 'scrape' and 'sessionId' or 'importJobId'
    local refs = {}
    local refs_json = redis.call('HGET', key, 'refs')
    if refs_json then
      local ok, decoded = pcall(cjson.decode, refs_json)
      if ok and type(decoded) == 'table' then
        refs = decoded
      end
    end
    refs[ref_name] = id
    for _, value in ipairs({'id', link, 'job_type', job_type, 'bullmq_job_id', id, 'refs', cjson.encode(refs)}) do
      fields[#fields + 1] = value
    end
    redis.call('HSETNX', key, 'created_at', created_at or '')
  end
  redis.call('HSET', key, unpack(fields))
  if retention then
    redis.call('PEXPIRE', key, retention)
  else
    redis.call('PERSIST', key)
  end
end

