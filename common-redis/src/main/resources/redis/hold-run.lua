-- Registers a run of a shard unless a live run of the same shard and round is registered: one atomic step,
-- so two deliveries released at the same instant cannot both start.
-- KEYS[1]   the task's deliveries hash: field <round>/<shardIndex>/<instanceId>/<nonce>, value its lease's end (epoch ms)
-- ARGV[1]   the shard's field prefix "<round>/<shardIndex>/"; ARGV[2] this run's field; ARGV[3] now (epoch ms);
-- ARGV[4]   this run's lease end (epoch ms); ARGV[5..] instances the caller found dead (their runs hold nothing)
-- Returns 1 when registered, 0 when a live run holds the shard.
local dead = {}
for i = 5, #ARGV do
  dead[ARGV[i]] = true
end
local runs = redis.call('HGETALL', KEYS[1])
local prefix = ARGV[1]
local now = tonumber(ARGV[3])
for i = 1, #runs, 2 do
  local field = runs[i]
  if string.sub(field, 1, #prefix) == prefix then
    local rest = string.sub(field, #prefix + 1)
    local instance = string.match(rest, '^(.*)/[^/]*$') or rest
    if not dead[instance] and (tonumber(runs[i + 1]) or 0) > now then
      return 0
    end
  end
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
return 1
