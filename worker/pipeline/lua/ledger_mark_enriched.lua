-- Phase 2's outcome on a source's entry, only while the entry still names that document (a
-- file changed meanwhile names its new one, whose own phase 2 says how that went). A copy's
-- entry names the document it duplicates and has no phase 2 of its own: it is left as is.
local entry = redis.call('HMGET', KEYS[1], 'doc_id', 'state')
if entry[1] == ARGV[1] and entry[2] ~= 'duplicate' then
  redis.call('HSET', KEYS[1], 'enrichment', ARGV[2], 'enriched_at', ARGV[3])
  return 1
end
return 0
