-- Takes a split a thief found gone out of the open set (RedisKeys.SPLITS_OPEN), unless the shard's split was opened
-- again since the thief read the set: a later run's split has a later score, and stays.
-- KEYS[1]   the open set; ARGV[1] the split, "<taskId>/<round>/<shardIndex>"; ARGV[2] its score when the thief read it
-- Returns 1 when removed, 0 when opened again or already removed.
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then
  return 0
end
return redis.call('ZREM', KEYS[1], ARGV[1])
