-- The prelude of the scripts that walk the band buckets (claim, forget): ARGV[1] is the
-- key prefix, ARGV[2] the records' time to live; buckets split as they fill, to this depth.
local P = ARGV[1]
local ttl = tonumber(ARGV[2])
local depth = tonumber(redis.call('GET', P .. 'depth') or '0')

local function bucket_key(d, bits)
  return P .. 'b:' .. d .. ':' .. string.format('%d', bits)
end

-- The one existing bucket that covers band hash h (buckets never overlap), or nil.
local function locate(h)
  for d = depth, 0, -1 do
    local key = bucket_key(d, h % 2 ^ d)
    if redis.call('EXISTS', key) == 1 then
      return key, d
    end
  end
  return nil, nil
end
