-- Extends the lease of a registered run; a run released (or dropped as leaked) meanwhile stays gone.
-- KEYS[1]   the task's deliveries hash; ARGV[1] the run's field; ARGV[2] its lease's new end (epoch ms)
-- Returns 1 when renewed, 0 when the run is not registered any more.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
