-- Extends the leases of items still running (renew-run.lua's counterpart for take-running-item.lua).
-- KEYS[1]   the task's running-items sorted set; ARGV[1] the lease (ms); ARGV[2..] the members to extend
-- A member whose lease ran out is not brought back: its place may be another item's already.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local lease = tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', 'GT', now + lease, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], 4 * lease)
return 1
