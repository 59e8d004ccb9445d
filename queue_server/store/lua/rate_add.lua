-- Add hits counted elsewhere (a process's own count since its last sync) to a
-- fixed-window bucket, started by its first hit as rate_limit.lua starts it.
-- KEYS[1] the bucket key
-- ARGV[1] hits to add  ARGV[2] window in ms
-- Returns {count in the window, ms until it resets}
local by = tonumber(ARGV[1])
local n = redis.call('INCRBY', KEYS[1], by)
local ttl = redis.call('PTTL', KEYS[1])
if n == by or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return { n, ttl }
