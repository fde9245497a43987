-- One round trip, atomic, so concurrent workers on the same source never lose a count.
-- KEYS: 1 docs-seen counter, 2 recent document ids (zset, score = arrival number),
--       3 line counts (zset, member = line hash, score = documents containing it).
-- ARGV: 1 document id, 2 min_docs, 3 min_share, 4 ttl seconds, 5 max lines, 6 max docs,
--       7.. distinct line hashes of this document.
-- Returns {is_new, docs_seen, boilerplate hash, ...}.
local min_docs = tonumber(ARGV[2])
local min_share = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local max_lines = tonumber(ARGV[5])
local max_docs = tonumber(ARGV[6])

local is_new = 0
local seen
if redis.call('ZSCORE', KEYS[2], ARGV[1]) == false then
  is_new = 1
  seen = redis.call('INCR', KEYS[1])
  redis.call('ZADD', KEYS[2], seen, ARGV[1])
  local ndocs = redis.call('ZCARD', KEYS[2])
  if ndocs > max_docs then
    -- Forget the oldest arrivals: idempotency only has to cover recent retries.
    redis.call('ZREMRANGEBYRANK', KEYS[2], 0, ndocs - max_docs - 1)
  end
else
  seen = tonumber(redis.call('GET', KEYS[1]) or '0')
end

local counts = {}
for i = 7, #ARGV do
  if is_new == 1 then
    counts[i] = tonumber(redis.call('ZINCRBY', KEYS[3], 1, ARGV[i]))
  else
    counts[i] = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[i]) or '0')
  end
end

if is_new == 1 then
  local nlines = redis.call('ZCARD', KEYS[3])
  if nlines > max_lines then
    -- Drop the rarest lines down to 90% of the cap, so pruning runs in batches, not per doc.
    local keep = math.floor(max_lines * 0.9)
    redis.call('ZREMRANGEBYRANK', KEYS[3], 0, nlines - keep - 1)
  end
  for k = 1, 3 do
    redis.call('EXPIRE', KEYS[k], ttl)
  end
end

local result = {is_new, seen}
for i = 7, #ARGV do
  if counts[i] >= min_docs and counts[i] >= min_share * seen then
    table.insert(result, ARGV[i])
  end
end
return result
