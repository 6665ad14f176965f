-- Counts a new task against its owner's unfinished tasks, unless the owner has its limit already.
-- KEYS[1]   the owner's unfinished tasks (sorted set of task ids, scored by when they were accepted)
-- ARGV[1]   the task id; ARGV[2] the limit (0: none); ARGV[3] now (ms)
-- Returns 1 when counted (or counted already: a client sending the same task again), 0 at the limit.
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 1
end
local limit = tonumber(ARGV[2])
if limit > 0 and redis.call('ZCARD', KEYS[1]) >= limit then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
