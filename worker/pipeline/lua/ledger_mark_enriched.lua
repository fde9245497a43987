-- Phase 2's outcome on a source's entry, only while the entry still names that document (a
-- file changed meanwhile names its new one, whose own phase 2 says how that went) and is
-- the document's own: indexed, or announced by phase 1 (`pending`, written on every entry it
-- indexed the document under before it sent phase 2, whatever the state says yet: an item
-- that was a copy until now). A copy's entry, recorded as a duplicate, names the document
-- with no phase 2 of its own: it is left so.
local entry = redis.call('HMGET', KEYS[1], 'doc_id', 'enrichment', 'state')
if entry[1] == ARGV[1] and ((entry[2] and entry[2] ~= '') or entry[3] == 'indexed') then
  redis.call('HSET', KEYS[1], 'enrichment', ARGV[2], 'enriched_at', ARGV[3])
  return 1
end
return 0
