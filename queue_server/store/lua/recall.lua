-- Call the counter's current ticket again (announced again on the board).
-- KEYS[1] counter hash   KEYS[2] tickets hash  KEYS[3] event stream
-- KEYS[4] event sequence KEYS[5] recent calls  KEYS[6] idempotency key
-- ARGV[1] JSON {now, counter, clerk, channel, use_idem, idem_ttl}
-- Returns JSON {ticket} | {err: no_current_ticket}
local a = cjson.decode(ARGV[1])
local use = a.use_idem == true
local prev = idem_get(KEYS[6], use)
if prev then return prev end
local cur = redis.call('HGET', KEYS[1], 'ticket')
if not cur or cur == '' then return fail('no_current_ticket') end
local t = get_ticket(KEYS[2], cur)
if not t or t.status ~= 'called' then return fail('no_current_ticket') end
local now = now_ms(a)
t.calls = (tonumber(t.calls) or 0) + 1
t.recalled_at = now
put_ticket(KEYS[2], t)
local seq = emit(KEYS[3], KEYS[4], a.channel, ticket_event('recall', t, a, { calls = t.calls }))
redis.call('LPUSH', KEYS[5], cjson.encode({
  number = t.number, counter = t.counter, category = t.category, ts = now, type = 'recall', seq = seq,
}))
redis.call('LTRIM', KEYS[5], 0, 19)
return idem_put(KEYS[6], use, a.idem_ttl, reply({ ticket = t.id }))
