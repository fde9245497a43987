-- ARGV: prefix, ttl, ref, doc id, slots, band hash × 14. Deletes the record, and each band
-- still owned by this document (another document may have taken it over since).
local ref = ARGV[3]
local removed = 0
for i = 6, #ARGV do
  local key = locate(tonumber(ARGV[i]))
  if key and redis.call('HGET', key, ARGV[i]) == ref then
    redis.call('HDEL', key, ARGV[i])
    removed = removed + 1
  end
end
redis.call('DEL', P .. 's:' .. ref)
return removed
