-- Phase 2's outcome on a source's entry, only while the entry still names that document (a
-- file changed meanwhile names its new one, whose own phase 2 says how that went).
if redis.call('HGET', KEYS[1], 'doc_id') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'enrichment', ARGV[2], 'enriched_at', ARGV[3])
  return 1
end
return 0
