-- Increment the counters named in ARGV[1] ("slot,slot,..."), saturating at 65535; returns
-- their new values the same way. One argument each way: a batch holds thousands of phrases.
local out = {}
for slot in string.gmatch(ARGV[1], '%d+') do
  local value = redis.call('BITFIELD', KEYS[1], 'OVERFLOW', 'SAT', 'INCRBY', 'u16',
                           '#' .. slot, 1)
  out[#out + 1] = value[1]
end
return {redis.call('INCRBY', KEYS[2], ARGV[2]), table.concat(out, ',')}
