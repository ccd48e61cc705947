--[[
  What Bull Board shows of one attempt, written in one step: the job's BullMQ progress (and the
  `progress` event BullMQ's updateProgress emits, for QueueEvents listeners) and the attempt's
  story lines appended to the job's BullMQ log, trimmed to the kept number. One script per
  flush instead of BullMQ's updateProgress + one addLog per line (3 commands and one script call
  each). Same keys as BullMQ's: all four carry the queue's {hash tag}, one slot on a cluster.

  KEYS[1] BullMQ job hash   KEYS[2] its log list   KEYS[3] the queue's event stream
  KEYS[4] the queue's meta hash
  ARGV[1] job id   ARGV[2] progress JSON ('' = no progress write)   ARGV[3] lines kept
  ARGV[4..] log lines, in order

  Returns the log's length (0 when no line was written); -1 when the job no longer exists
  (nothing is written: a removed job gets no orphan log).
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'progress', ARGV[2])
  -- As BullMQ's getOrSetMaxEvents: the stream's cap is the queue's, 10,000 when unset.
  local max_events = redis.call('HGET', KEYS[4], 'opts.maxLenEvents') or 10000
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', max_events, '*', 'event', 'progress', 'jobId', ARGV[1], 'data', ARGV[2])
end
if #ARGV < 4 then
  return 0
end
local length = redis.call('RPUSH', KEYS[2], unpack(ARGV, 4))
local keep = tonumber(ARGV[3])
if length > keep then
  redis.call('LTRIM', KEYS[2], -keep, -1)
  length = keep
end
return length
