-- KEYS: 1 the site's hash (field "#docs" counts titles, "p:<affix>" / "s:<affix>" segments).
-- ARGV: 1 ttl seconds, 2 max fields, 3.. this title's fields.
-- Returns the count of each field after this title, then the site's title count.
local docs = redis.call('HINCRBY', KEYS[1], '#docs', 1)
local full = redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[2])
local counts = {}
for i = 3, #ARGV do
  if full and redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 then
    table.insert(counts, 0)
  else
    table.insert(counts, redis.call('HINCRBY', KEYS[1], ARGV[i], 1))
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
table.insert(counts, docs)
return counts
