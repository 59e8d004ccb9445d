-- Fixed-window rate limit, atomic across processes.
-- KEYS[1] the bucket key
-- ARGV[1] limit  ARGV[2] window in ms
-- Returns {count, ms until reset}
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return { n, ttl }
