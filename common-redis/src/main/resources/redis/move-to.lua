-- Moves a task to a new status in one round trip, if its current status allows it.
-- The transition table stays in Java (TaskStatus): the caller passes the statuses it may move from.
-- KEYS[1]   the task's hash; KEYS[2..] its other keys (all in the task's hash slot)
-- ARGV[1]   the status field; ARGV[2] the statuses it may move from, as ",A,B,"
-- ARGV[3]   the retention field when the new status is terminal (every key then expires after
--           that many seconds), else ""
-- ARGV[4]   n, the number of fields to delete; ARGV[5 .. 4+n] those fields
-- ARGV[5+n ..] field, value pairs to set
-- Returns 1 when moved, 0 when the task is missing or its status does not allow the move.
local status = redis.call('HGET', KEYS[1], ARGV[1])
if not status or not string.find(ARGV[2], ',' .. status .. ',', 1, true) then
  return 0
end
local deletes = tonumber(ARGV[4])
for i = 5 + deletes, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
for i = 5, 4 + deletes do
  redis.call('HDEL', KEYS[1], ARGV[i])
end
if ARGV[3] ~= '' then
  local retention = tonumber(redis.call('HGET', KEYS[1], ARGV[3]))
  for i = 1, #KEYS do
    redis.call('EXPIRE', KEYS[i], retention)
  end
end
return 1
