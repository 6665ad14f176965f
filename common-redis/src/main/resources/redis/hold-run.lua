-- Registers a run of a shard unless a live run of the same shard and round holds it: one atomic step,
-- so two deliveries released at the same instant cannot both start. Times are Redis's own (TIME), so
-- the workers' clocks need not agree.
-- KEYS[1]   the task's deliveries hash: field <round>/<shardIndex>/<instanceId>/<nonce>, value the end of
--           its lease (epoch ms, Redis time)
-- ARGV[1]   the shard's field prefix "<round>/<shardIndex>/"; ARGV[2] this run's field; ARGV[3] the lease (ms);
-- ARGV[4..] instances the caller found gone (their runs hold nothing, whatever their lease says)
-- Returns 1 when registered, 0 when a live run holds the shard.
-- A gone instance's run passed over here has its lease ended (the field stays: it counts as a death while
-- the instance is gone). A process only seemed gone when it was paused (SIGSTOP, a long GC) past its
-- heartbeat: back, it must not renew a lease another run took over, and go on starting items beside it.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local gone = {}
for i = 4, #ARGV do
  gone[ARGV[i]] = true
end
local prefix = ARGV[1]
local passedOver = {}
local runs = redis.call('HGETALL', KEYS[1])
for i = 1, #runs, 2 do
  local field = runs[i]
  if field ~= ARGV[2] and string.sub(field, 1, #prefix) == prefix then
    local instance = string.match(string.sub(field, #prefix + 1), '^(.+)/[^/]+$')
    if instance and (tonumber(runs[i + 1]) or 0) > now then
      if not gone[instance] then
        return 0
      end
      passedOver[#passedOver + 1] = field
    end
  end
end
for _, field in ipairs(passedOver) do
  redis.call('HSET', KEYS[1], field, 0)
end
redis.call('HSET', KEYS[1], ARGV[2], now + tonumber(ARGV[3]))
return 1
