-- The reverse, atomic too: drop a source; if it was the owner, hand ownership to a remaining
-- source. When none remains, the owner key becomes a deletion mark (ARGV[2], expiring after
-- ARGV[3] ms) until the caller has deleted the document: a claim of the same content meanwhile
-- waits instead of indexing a document that the deletion would then remove.
-- Returns how many sources remain.
redis.call('SREM', KEYS[2], ARGV[1])
local remaining = redis.call('SCARD', KEYS[2])
local owner = redis.call('GET', KEYS[1])
if remaining > 0 then
  if owner == ARGV[1] then
    redis.call('SET', KEYS[1], redis.call('SRANDMEMBER', KEYS[2]))
  end
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return remaining
