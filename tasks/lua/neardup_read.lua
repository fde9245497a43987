-- ARGV: prefix, ttl, ref, doc id, slots. The signature as integers (binary-safe whatever the
-- client's decode_responses), or {} when the document is not stored.
local rec = redis.call('GET', ARGV[1] .. 's:' .. ARGV[3])
if not rec then
  return {}
end
local slen = tonumber(ARGV[5]) * 4
local tail = string.sub(rec, 2 + slen)
if string.sub(tail, 1, string.find(tail, '\0', 1, true) - 1) ~= ARGV[4] then
  return {}
end
local out = {}
for k = 2, slen + 1, 4 do
  local b1, b2, b3, b4 = string.byte(rec, k, k + 3)
  out[#out + 1] = b1 + b2 * 256 + b3 * 65536 + b4 * 16777216
end
return out
