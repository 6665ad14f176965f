-- Marks one shard of the task's current round done and, when it was the last one, finishes the task:
-- FAILED when an item failed, else COMPLETED, if the transition table allows it. One round trip, no
-- WATCH: result batches rewriting the task hash never make it retry.
-- KEYS[1]   the task's hash; KEYS[2] its shards-done set; KEYS[3] its failed set; KEYS[4..] its
--           other keys (all expire with the hash when the task finishes)
-- ARGV[1]   the shard index; ARGV[2] its round; ARGV[3] now (epoch ms)
-- ARGV[4..9] the hash fields: status, round, shard count, retention seconds, updated at, finished at
-- ARGV[10]  the statuses COMPLETED may be reached from, as ",A,B,"; ARGV[11] those of FAILED
-- Returns false when the shard is not of the current round or was done already; the new status
-- when this shard finished the task; "" otherwise.
local task = redis.call('HMGET', KEYS[1], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
if not task[1] or task[2] ~= ARGV[2] then
  return false
end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then
  return false
end
redis.call('HSET', KEYS[1], ARGV[8], ARGV[3])
if redis.call('SCARD', KEYS[2]) < tonumber(task[3]) then
  return ''
end
local next, allowed = 'COMPLETED', ARGV[10]
if redis.call('SCARD', KEYS[3]) > 0 then
  next, allowed = 'FAILED', ARGV[11]
end
if not string.find(allowed, ',' .. task[1] .. ',', 1, true) then
  return ''
end
redis.call('HSET', KEYS[1], ARGV[4], next, ARGV[9], ARGV[3])
for i = 1, #KEYS do
  redis.call('EXPIRE', KEYS[i], tonumber(task[4]))
end
return next
