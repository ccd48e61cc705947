--[[
  Creates pending status rows of one job type, idempotently, in one step (`create` is a batch
  of one; a bulk enqueue's batch is up to 1,000 rows), in order: a repeated id or idempotency
  key later in the batch finds the row made earlier. A scraping session or import with a
  background_job_id field creates or updates its linked background_jobs row in the same step.
  One script call and one TIME per batch, not one each per row. The per-row keys are built from the key base: they carry the queue's {hash tag}, the same slot
  as KEYS (as every script of the store that builds keys from the base).

  KEYS[1] update index        KEYS[2] override index
  ARGV[1] key base            ARGV[2] max history entries    ARGV[3] history entry JSON
  ARGV[4..] per row: job id, idempotency key ('' when none), n = number of field/value strings,
            then the n strings

  Returns {now, created_1, id_1, created_2, id_2, …}: created 1 (id = the new row's) or 0 (id =
  the existing row's), in the order of the rows.
]]
--- @include common

-- Creates one pending status row, idempotently.
-- fields: the row's field, value pairs (ARGV-style strings) from index `from` to `to` of `args`.
-- Returns 1, id when created; 0, existing id when the id or idempotency key already exists.
local function create_row(base, row_key, idem_key, update_index, override_index, history_key, id,
                          has_idem, max_history, history_json, args, from, to, now)
  if has_idem then
    local existing = redis.call('GET', idem_key)
    if existing then
      return 0, existing
    end
  end
  if redis.call('EXISTS', row_key) == 1 then
    return 0, id
  end
  local fields = {'id', id, 'status', 'pending', 'attempt', 0, 'restart_count', 0, 'progress', 0,
    'created_at', now, 'updated_at', now}
  local has_override = false
  local link = nil
  for i = from, to, 2 do
    fields[#fields + 1] = args[i]
    fields[#fields + 1] = args[i + 1]
    if args[i] == 'heartbeat_timeout_ms' or args[i] == 'update_timeout_ms' then
      has_override = true
    elseif args[i] == 'background_job_id' then
      link = args[i + 1]
    end
  end
  redis.call('HSET', row_key, unpack(fields))
  if has_idem then
    redis.call('SET', idem_key, id)
  end
  redis.call('ZADD', update_index, now, id)
  if has_override then
    redis.call('ZADD', override_index, now, id)
  end
  move_state(base, id, nil, 'pending', now)
  push_history(history_key, now, history_json, max_history)
  sync_linked(base, row_key, link, nil)
  return 1, id
end

local base = ARGV[1]
local max_history = tonumber(ARGV[2])
local now = now_ms()
local reply = {now}
local i = 4
while i <= #ARGV do
  local id, idem, count = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local from = i + 3
  local created, row_id = create_row(base, base .. 'status:' .. id, base .. 'idem:' .. idem, KEYS[1],
    KEYS[2], base .. 'history:' .. id, id, idem ~= '', max_history, ARGV[3], ARGV, from, from + count - 1, now)
  reply[#reply + 1] = created
  reply[#reply + 1] = row_id
  i = from + count
end
return reply
