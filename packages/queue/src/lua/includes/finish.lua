-- finish_job: completes or fails a status row (shared by finish-5 and complete-with-checkpoint-7,
-- so the transition is written once). Needs "common".
-- A scraping session or import updates its linked background_jobs row in the same step
-- (sync_linked in "common"); the linked row then expires with the finished row.
-- now: the store's time when the caller read it already (one TIME per script); nil reads it.
-- Returns {1, previousStatus}; {-1} missing; {-2} superseded fence; {-3, status} already finished.
local function finish_job(base, row_key, hb_index, update_index, override_index, history_key, id,
                          fence, outcome, result_json, error_message, error_stage, retention,
                          max_history, history_json, now)
  local current = redis.call('HMGET', row_key, 'fence', 'status', 'started_at', 'created_at',
    'idempotency_key', 'current_stage', 'background_job_id')
  if not current[2] then
    return {-1}
  end
  if fence ~= '' and current[1] ~= fence then
    return {-2}
  end
  if is_terminal(current[2]) then
    return {-3, current[2]}
  end

  now = now or now_ms()
  local started = tonumber(current[3]) or tonumber(current[4]) or now
  local fields = {'status', outcome, 'completed_at', now, 'updated_at', now, 'duration_ms', now - started}
  if outcome == 'completed' then
    for _, value in ipairs({'result', result_json, 'progress', 100, 'error', '', 'error_stage', ''}) do
      fields[#fields + 1] = value
    end
  else
    local stage = error_stage
    if stage == '' and current[6] then
      stage = current[6]
    end
    -- The failure kind is a field, never parsed back from the message: an empty fence is a cancel.
    local kind = fence == '' and 'cancelled' or 'processing'
    for _, value in ipairs({'error', error_message, 'error_stage', stage, 'failure_kind', kind}) do
      fields[#fields + 1] = value
    end
    if history_json == '{}' or history_json == '' then
      history_json = '{"failureKind":"' .. kind .. '"}'
    else
      history_json = '{"failureKind":"' .. kind .. '",' .. string.sub(history_json, 2)
    end
  end
  if fence == '' then
    fields[#fields + 1] = 'fence'
    fields[#fields + 1] = ''
  end
  redis.call('HSET', row_key, unpack(fields))
  redis.call('ZREM', hb_index, id)
  redis.call('ZREM', update_index, id)
  redis.call('ZREM', override_index, id)
  move_state(base, id, current[2], outcome, now)
  push_history(history_key, now, history_json, max_history)

  redis.call('PEXPIRE', row_key, retention)
  redis.call('PEXPIRE', history_key, retention)
  if current[5] and current[5] ~= '' then
    redis.call('PEXPIRE', base .. 'idem:' .. current[5], retention)
  end
  redis.call('ZREMRANGEBYSCORE', base .. 'status-idx:state:' .. outcome, '-inf', '(' .. (now - retention))
  sync_linked(base, row_key, current[7], retention)
  return {1, current[2]}
end
