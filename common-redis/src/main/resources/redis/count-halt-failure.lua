-- Counts one failed item against the task's halt rule and halts the task at the threshold.
-- KEYS[1]   the task's hash; KEYS[2] its halt-failures set
-- ARGV[1]   the item's index; ARGV[2] the threshold; ARGV[3] the rule, for the reason ("halt soon,fail=10%")
-- ARGV[4..6] the hash fields: halted, halt reason, items total
-- Returns 1 when the task is halted (now or before), 0 otherwise.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('SADD', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[1], ARGV[4]) == '1' then
  return 1
end
local failed = redis.call('SCARD', KEYS[2])
if failed < tonumber(ARGV[2]) then
  return 0
end
local total = redis.call('HGET', KEYS[1], ARGV[6]) or '?'
redis.call('HSET', KEYS[1], ARGV[4], '1', ARGV[5], ARGV[3] .. ': ' .. failed .. ' of ' .. total .. ' items failed')
return 1
