-- Move the counter's current ticket to another category or counter queue,
-- keeping its rank (rank_ms) and the time it joined the queue (queued_at).
-- KEYS[1] counter hash   KEYS[2] tickets hash  KEYS[3] event stream
-- KEYS[4] event sequence KEYS[5] idempotency key KEYS[6] target queue
-- ARGV[1] JSON {now, counter, clerk, channel, use_idem, idem_ttl,
--               queue (logical name of KEYS[6]), to_category?, to_counter?}
-- Returns JSON {ticket} | {err: no_current_ticket}
local a, prev = begin(KEYS[5])
if prev then return replay(KEYS[2], prev) end
local t = current_ticket(KEYS[1], KEYS[2])
if not t then return fail('no_current_ticket') end
local from_category, from_counter = t.category, t.counter
clear_counter(KEYS[1])
t.status = 'waiting'
t.queue = a.queue
t.source = 'transfer'
if a.to_category and a.to_category ~= cjson.null then
  t.category = a.to_category
  t.counter = nil
else
  t.counter = tonumber(a.to_counter)
end
t.rank_ms = rank_of(t)
put_ticket(KEYS[2], t)
redis.call('ZADD', KEYS[6], t.rank_ms, t.id)
local ev = ticket_event('transfer', t, a, {
  from_category = from_category, from_counter = nz(from_counter),
  to_category = nz(a.to_category), to_counter = nz(a.to_counter),
})
ev.counter = nz(from_counter)
emit(KEYS[3], KEYS[4], a.channel, ev)
return answer(KEYS[5], a, KEYS[2], { ticket = t.id })
