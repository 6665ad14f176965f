-- An idle worker takes the last of the items a busy worker's run of a shard has not claimed yet, as many as its
-- share of them by free slots (the owner's slots counted busy with one item each), and registers its own run of them (a deliveries field with a lease, as hold-run.lua does): one atomic step with
-- the owner's claims (claim-items.lua), so an item is either the owner's or the thief's, never both. Times are
-- Redis's own (TIME).
-- KEYS[1]   the task's splits hash; KEYS[2] the task's deliveries hash
-- ARGV[1]   the shard's field prefix "<round>/<shardIndex>/"; ARGV[2] the thief's run (deliveries field);
-- ARGV[3]   its lease (ms); ARGV[4] the prefix of the thief's own runs of the shard, "<round>/<shardIndex>/<instance>/";
-- ARGV[5]   the thief's free slots
-- Returns {0} when nothing will be claimable there again: the split is closed, its owner's lease is over, or every
-- item is claimed or taken (claims only grow and takes only shrink the end);
-- {1} when the split is the thief's own (checked after the above, so its own exhausted splits leave the open set too);
-- {2, from, to, shard, signature} when items [from, to) are the thief's, with the shard the owner registered.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local prefix = ARGV[1]
local owner = redis.call('HGET', KEYS[1], prefix .. 'owner')
if not owner or (tonumber(redis.call('HGET', KEYS[2], owner)) or 0) <= now then
  return {0}
end
local claimed = tonumber(redis.call('HGET', KEYS[1], prefix .. 'claimed'))
local stop = tonumber(redis.call('HGET', KEYS[1], prefix .. 'end'))
local left = stop - claimed
if left <= 0 then
  return {0}
end
if string.sub(owner, 1, #ARGV[4]) == ARGV[4] then
  return {1}
end
local slots = tonumber(redis.call('HGET', KEYS[1], prefix .. 'slots')) or 1
local free = math.max(1, tonumber(ARGV[5]))
local take = math.min(left, math.ceil((left + slots) * free / (free + slots)))
redis.call('HSET', KEYS[1], prefix .. 'end', stop - take)
redis.call('HSET', KEYS[2], ARGV[2], now + tonumber(ARGV[3]))
return {2, stop - take, stop, redis.call('HGET', KEYS[1], prefix .. 'shard'), redis.call('HGET', KEYS[1], prefix .. 'signature')}
