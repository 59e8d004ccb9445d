-- Record a state change that is not a queue move (configuration, notice,
-- printer status) in the event log, optionally storing a value with it.
-- KEYS[1] event stream  KEYS[2] event sequence  KEYS[3] key to SET (or unused)
-- ARGV[1] JSON {now, channel, event: {type, ...}, value?}
-- Returns JSON {seq}
local a = cjson.decode(ARGV[1])
if a.value ~= nil and a.value ~= cjson.null then
  redis.call('SET', KEYS[3], a.value)
end
local ev = a.event
ev.ts = now_ms(a)
local seq = emit(KEYS[1], KEYS[2], a.channel, ev)
return reply({ seq = seq })
