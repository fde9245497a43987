-- ARGV: prefix, ttl, ref, doc id, packed signature, slots needed, fill, band hash × 14.
-- Returns {cluster ('' when canonical), equal slots}. The decision is made here, not in
-- Python: it is stored with the signature in the same atomic step, so a concurrent claimer
-- never sees a document whose cluster is still undecided, and a repeat gets the same answer.
local ref, doc, sig = ARGV[3], ARGV[4], ARGV[5]
local need, fill = tonumber(ARGV[6]), tonumber(ARGV[7])
local slen = string.len(sig)
local rec_key = P .. 's:' .. ref

local function split_record(rec)
  local tail = string.sub(rec, 2 + slen)
  local nul = string.find(tail, '\0', 1, true)
  return string.sub(tail, 1, nul - 1), string.sub(tail, nul + 1)
end

local existing = redis.call('GET', rec_key)
if existing then
  local owner, cluster = split_record(existing)
  if owner == doc then
    return {cluster, string.byte(existing, 1)}
  end
  -- Two ids with the same 63-bit ref: answer, but store nothing over the other's record.
  return {'', 0}
end

local function alive(owner)
  return owner == ref or redis.call('EXISTS', P .. 's:' .. owner) == 1
end

-- Split a full bucket by the next bit of the band hash; owners gone meanwhile drop out.
local function split(key, d, bits)
  local entries = redis.call('HGETALL', key)
  redis.call('DEL', key)
  local halves = {{}, {}}
  for j = 1, #entries, 2 do
    if alive(entries[j + 1]) then
      local half = halves[math.floor(tonumber(entries[j]) / 2 ^ d) % 2 + 1]
      half[#half + 1] = entries[j]
      half[#half + 1] = entries[j + 1]
    end
  end
  for side = 1, 2 do
    if #halves[side] > 0 then
      local child = bucket_key(d + 1, bits + (side - 1) * 2 ^ d)
      redis.call('HSET', child, unpack(halves[side]))
      redis.call('EXPIRE', child, ttl)
    end
  end
  if d + 1 > depth then
    depth = d + 1
  end
end

local candidates = {}
for i = 8, #ARGV do
  local field = ARGV[i]
  local h = tonumber(field)
  local key, d = locate(h)
  local owner = key and redis.call('HGET', key, field)
  if owner and owner ~= ref and alive(owner) then
    candidates[owner] = true
  elseif owner ~= ref then
    -- Free, or its owner expired or was forgotten: this document takes the band.
    if not key then
      d = depth
      key = bucket_key(d, h % 2 ^ d)
    end
    redis.call('HSET', key, field, ref)
    redis.call('EXPIRE', key, ttl)
    if redis.call('HLEN', key) >= fill then
      split(key, d, h % 2 ^ d)
    end
  end
end
redis.call('SET', P .. 'depth', depth, 'EX', ttl)

-- Best candidate by equal slots; ties go to the smaller cluster id, so the answer does not
-- depend on table order.
local best, cluster = -1, ''
for owner in pairs(candidates) do
  local rec = redis.call('GET', P .. 's:' .. owner)
  local equal = 0
  for k = 2, slen + 1, 4 do
    if string.sub(rec, k, k + 3) == string.sub(sig, k - 1, k + 2) then
      equal = equal + 1
    end
  end
  if equal >= need then
    local other, other_cluster = split_record(rec)
    if other_cluster == '' then
      other_cluster = other
    end
    if equal > best or (equal == best and other_cluster < cluster) then
      best, cluster = equal, other_cluster
    end
  end
end
if best < 0 then
  best = 0
end
redis.call('SET', rec_key, string.char(best) .. sig .. doc .. '\0' .. cluster, 'EX', ttl)
return {cluster, best}
