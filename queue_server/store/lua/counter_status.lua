-- Pause or resume a counter.
-- KEYS[1] counter hash  KEYS[2] event stream  KEYS[3] event sequence
-- ARGV[1] JSON {now, counter, clerk, channel, status: open|paused}
-- Returns JSON {status, changed}
local a = cjson.decode(ARGV[1])
local before = redis.call('HGET', KEYS[1], 'status')
if not before or before == '' then before = 'open' end
if before == a.status then return reply({ status = a.status, changed = false }) end
redis.call('HSET', KEYS[1], 'status', a.status, 'since', tostring(now_ms(a)))
local etype = (a.status == 'paused') and 'pause' or 'resume'
emit(KEYS[2], KEYS[3], a.channel, {
  type = etype, ts = now_ms(a), counter = tostring(a.counter), clerk = nz(a.clerk),
})
return reply({ status = a.status, changed = true })
