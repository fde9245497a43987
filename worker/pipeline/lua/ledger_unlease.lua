-- Give the file's lease back, unless it has expired and another holder has taken it since.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 0
