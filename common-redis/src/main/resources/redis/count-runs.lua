-- Counts the registered runs of a shard and round: live (lease running, process alive) and dead (process
-- gone: a worker that died running the shard). A run whose lease ran out while its process lives is a
-- removal that failed: neither, and it is dropped here, in the same step that saw its lease over. A dead
-- run's lease is ended here, as hold-run.lua ends it: a process that only seemed gone (paused past its
-- heartbeat) cannot renew it when it comes back, and starts no item beside whoever runs the shard's rest.
-- KEYS[1]   the task's deliveries hash; ARGV[1] the shard's field prefix; ARGV[2..] instances found gone
-- Returns {live, dead}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local gone = {}
for i = 2, #ARGV do
  gone[ARGV[i]] = true
end
local prefix = ARGV[1]
local live, dead = 0, 0
local runs = redis.call('HGETALL', KEYS[1])
for i = 1, #runs, 2 do
  local field = runs[i]
  if string.sub(field, 1, #prefix) == prefix then
    local instance = string.match(string.sub(field, #prefix + 1), '^(.+)/[^/]+$')
    if instance then
      if gone[instance] then
        dead = dead + 1
        if (tonumber(runs[i + 1]) or 0) > now then
          redis.call('HSET', KEYS[1], field, 0)
        end
      elseif (tonumber(runs[i + 1]) or 0) > now then
        live = live + 1
      else
        redis.call('HDEL', KEYS[1], field)
      end
    end
  end
end
return {live, dead}
