-- One round trip, atomic: record the source, and make the first source to arrive the owner.
-- Two workers racing on the same content both see the same owner. Content whose document is
-- being deleted (see dedupe_release.lua) is not claimed: nil, and the caller tries again shortly.
local owner = redis.call('GET', KEYS[1])
if owner and string.sub(owner, 1, string.len(ARGV[2])) == ARGV[2] then
  return false
end
redis.call('SADD', KEYS[2], ARGV[1])
if not owner then
  redis.call('SET', KEYS[1], ARGV[1])
  owner = ARGV[1]
end
return owner
