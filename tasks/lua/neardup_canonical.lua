-- ARGV: prefix, ttl, ref, doc id, slots. A provisional match that the exact Jaccard did not
-- confirm: the document becomes canonical (its record keeps signature and TTL).
local key = ARGV[1] .. 's:' .. ARGV[3]
local rec = redis.call('GET', key)
if not rec then
  return 0
end
local slen = tonumber(ARGV[5]) * 4
local tail = string.sub(rec, 2 + slen)
local nul = string.find(tail, '\0', 1, true)
if string.sub(tail, 1, nul - 1) ~= ARGV[4] then
  return 0
end
redis.call('SET', key, string.char(0) .. string.sub(rec, 2, 1 + slen) .. ARGV[4] .. '\0',
           'KEEPTTL')
return 1
