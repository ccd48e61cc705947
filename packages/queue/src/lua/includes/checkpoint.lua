-- Helpers of the checkpoint scripts, inlined at "--- @include checkpoint". Needs "common".

-- nil when the writer holds the fence of a running job; else the error reply
-- ({-1} no status row, {-2} superseded fence, {-3} the job is not running).
local function fence_error(row_key, fence)
  local current = redis.call('HMGET', row_key, 'fence', 'status')
  if not current[2] then
    return {-1}
  end
  if current[1] ~= fence then
    return {-2}
  end
  if not is_running(current[2]) then
    return {-3}
  end
  return nil
end

-- Writes one stage's checkpoint (metadata and data), clears the stage's resume state, and
-- (re)arms the retention TTL of both hashes.
local function write_checkpoint(checkpoints_key, resume_key, stage, data_json, sha256, stage_index,
                                schema_version, attempt, fence, now, retention)
  local meta = cjson.encode({
    stageIndex = tonumber(stage_index),
    sha256 = sha256,
    schemaVersion = tonumber(schema_version),
    attempt = tonumber(attempt),
    fence = fence,
    bytes = string.len(data_json),
  })
  -- createdAt is appended as text: cjson would print a 13-digit number in exponent form.
  meta = string.sub(meta, 1, -2) .. ',"createdAt":' .. now .. '}'
  redis.call('HSET', checkpoints_key, stage, meta, stage .. '#data', data_json)
  redis.call('HDEL', resume_key, stage)
  redis.call('PEXPIRE', checkpoints_key, retention)
  redis.call('PEXPIRE', resume_key, retention)
end
