-- Call the counter's current ticket again (announced again on the board).
-- Not counted as a call in the counter's statistics; the last served ticket
-- (the rating prompt) stays, as it does on a call.
-- KEYS[1] counter hash   KEYS[2] tickets hash  KEYS[3] event stream
-- KEYS[4] event sequence KEYS[5] recent calls  KEYS[6] idempotency key
-- ARGV[1] JSON {now, counter, clerk, channel, use_idem, idem_ttl}
-- Returns JSON {ticket} | {err: no_current_ticket}
local a, prev = begin(KEYS[6])
if prev then return replay(KEYS[2], prev) end
local t = current_ticket(KEYS[1], KEYS[2])
if not t then return fail('no_current_ticket') end
local now = now_ms(a)
t.calls = (tonumber(t.calls) or 0) + 1
t.recalled_at = now
put_ticket(KEYS[2], t)
local seq = emit(KEYS[3], KEYS[4], a.channel, ticket_event('recall', t, a, { calls = t.calls }))
redis.call('LPUSH', KEYS[5], cjson.encode({
  number = t.number, counter = t.counter, category = t.category, ts = now, type = 'recall', seq = seq,
}))
redis.call('LTRIM', KEYS[5], 0, 19)
return answer(KEYS[6], a, KEYS[2], { ticket = t.id })
