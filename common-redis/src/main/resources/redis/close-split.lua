-- Ends a run's split of a shard: no item of it is taken by an idle worker any more. Only the run that opened it
-- closes it, so a late close cannot end the split of a later run of the shard.
-- KEYS[1]   the task's splits hash; ARGV[1] the shard's field prefix; ARGV[2] the owner's run
-- Returns 1 when closed, 0 when the split was not this run's.
local prefix = ARGV[1]
if redis.call('HGET', KEYS[1], prefix .. 'owner') ~= ARGV[2] then
  return 0
end
redis.call('HDEL', KEYS[1], prefix .. 'owner', prefix .. 'claimed', prefix .. 'end', prefix .. 'slots', prefix .. 'shard',
  prefix .. 'signature')
return 1
