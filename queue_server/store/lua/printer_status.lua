-- Record what the print agent says about its printer (or that it is there).
-- When the printer comes back online, waiting jobs become due at once.
-- KEYS[1] printer status hash  KEYS[2] print jobs hash  KEYS[3] print due zset
-- ARGV[1] JSON {now, status?, detail?, agent?, seen_only?}
-- Returns JSON {status, changed, released}
local a = cjson.decode(ARGV[1])
local now = now_ms(a)
redis.call('HSET', KEYS[1], 'seen', now)
if a.agent then redis.call('HSET', KEYS[1], 'agent', nz(a.agent)) end
if a.seen_only then
  return reply({ status = nz(redis.call('HGET', KEYS[1], 'status')), changed = false, released = 0 })
end
local prev = redis.call('HGET', KEYS[1], 'status')
local changed = prev ~= a.status
redis.call('HSET', KEYS[1], 'status', a.status, 'detail', nz(a.detail))
if changed then redis.call('HSET', KEYS[1], 'updated', now) end
local released = 0
if changed and a.status == 'online' then
  released = release_jobs(KEYS[2], KEYS[3], now, nil)
end
return reply({ status = a.status, changed = changed, released = released })
