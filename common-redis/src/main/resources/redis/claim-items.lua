-- The run that owns a shard's split claims its next items, up to ARGV[3], unless idle workers took them
-- (steal-items.lua takes from the far end): one atomic step, so the owner and a thief never both get an item.
-- KEYS[1]   the task's splits hash (see RedisKeys.splits)
-- ARGV[1]   the shard's field prefix "<round>/<shardIndex>/"; ARGV[2] the owner's run (its deliveries field);
-- ARGV[3]   the end of the items the owner would claim
-- Returns the end of what is the owner's now (at most ARGV[3]; at or below its last claim when the rest was
-- taken), or -1 when the split is not this run's (closed, or opened again by a later run of the shard).
local prefix = ARGV[1]
if redis.call('HGET', KEYS[1], prefix .. 'owner') ~= ARGV[2] then
  return -1
end
local claimed = tonumber(redis.call('HGET', KEYS[1], prefix .. 'claimed'))
local owned = math.min(tonumber(ARGV[3]), tonumber(redis.call('HGET', KEYS[1], prefix .. 'end')))
if owned > claimed then
  redis.call('HSET', KEYS[1], prefix .. 'claimed', owned)
end
return owned
