-- Takes one of a task's maxParallel places for an item about to start, unless every place is taken by a live lease.
-- KEYS[1]   the task's running-items sorted set (member: a lease, score: the end of its lease, Redis's time in ms)
-- ARGV[1]   the new lease's member; ARGV[2] maxParallel; ARGV[3] the lease (ms)
-- Returns 1 when taken, 0 when maxParallel items of the task run already.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
-- Gone on its own a while after the task's last item: nobody has to clean it up.
redis.call('PEXPIRE', KEYS[1], 4 * tonumber(ARGV[3]))
return 1
