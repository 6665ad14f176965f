-- Queues a finished task again for its failed (and skipped) items, as a new round: their results are
-- forgotten, the round's done shards too, a halt with what counted towards it, and its keys no longer expire.
-- KEYS[1]   the task's hash; KEYS[2] its failed set; KEYS[3] its results hash; KEYS[4] its recorded
--           bitmap; KEYS[5] its shards-done set; KEYS[6] its skipped set; KEYS[7] its halt-failures set;
--           KEYS[8..] its other keys
-- ARGV[1]   the statuses QUEUED may be reached from, as ",A,B,"; ARGV[2] now (epoch ms)
-- ARGV[3..11] the hash fields: status, round, shard count, updated at, finished at, shards published,
--           shard placements, halted, halt reason
-- Returns 1 when reopened, 0 when the task is missing or its status does not allow it.
local status = redis.call('HGET', KEYS[1], ARGV[3])
if not status or not string.find(ARGV[1], ',' .. status .. ',', 1, true) then
  return 0
end
for _, index in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  redis.call('HDEL', KEYS[3], index)
  redis.call('SETBIT', KEYS[4], tonumber(index), 0)
end
redis.call('DEL', KEYS[2], KEYS[5], KEYS[6], KEYS[7])
for i = 1, #KEYS do
  redis.call('PERSIST', KEYS[i])
end
redis.call('HDEL', KEYS[1], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11])
redis.call('HINCRBY', KEYS[1], ARGV[4], 1)
redis.call('HSET', KEYS[1], ARGV[3], 'QUEUED', ARGV[5], '0', ARGV[6], ARGV[2])
return 1
