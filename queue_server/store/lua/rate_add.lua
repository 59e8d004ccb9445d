-- Add hits counted elsewhere (a process's own count since its last sync) to a
-- fixed-window bucket, started by its first hits as rate_limit.lua starts it.
-- KEYS[1] the bucket key
-- ARGV[1] hits to add  ARGV[2] window in ms
-- Returns {count in the window, ms until it resets}
local n, ttl = rate_hit(KEYS[1], ARGV[2], ARGV[1])
return { n, ttl }
