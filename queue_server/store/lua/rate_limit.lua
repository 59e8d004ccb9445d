-- Fixed-window rate limit, atomic across processes.
-- KEYS[1] the bucket key
-- ARGV[1] limit  ARGV[2] window in ms
-- Returns {count, ms until reset}
local n, ttl = rate_hit(KEYS[1], ARGV[2])
return { n, ttl }
