-- Extends the lease of a registered run, unless it ran out: then another run may hold the shard already,
-- and the run must register again (hold-run.lua) before it starts another item.
-- KEYS[1]   the task's deliveries hash; ARGV[1] the run's field; ARGV[2] the lease (ms)
-- Returns 1 when renewed, 0 when the run is not registered any more or its lease ran out.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local leaseEnd = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
if not leaseEnd or leaseEnd <= now then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], now + tonumber(ARGV[2]))
return 1
