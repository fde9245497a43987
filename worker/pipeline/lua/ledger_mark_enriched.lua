-- Phase 2's outcome on a source's entry, only while the entry still names that document (a
-- file changed meanwhile names its new one, whose own phase 2 says how that went) and waits
-- for it: phase 1 wrote `pending` on every entry it indexed the document under before it
-- sent phase 2 (an item that was a copy until now included, whatever its state says yet).
-- A copy's entry, recorded as a duplicate, has none: it names the document and is left so.
local entry = redis.call('HMGET', KEYS[1], 'doc_id', 'enrichment')
if entry[1] == ARGV[1] and entry[2] and entry[2] ~= '' then
  redis.call('HSET', KEYS[1], 'enrichment', ARGV[2], 'enriched_at', ARGV[3])
  return 1
end
return 0
