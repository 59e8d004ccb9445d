-- A citizen marked no-show came back: put the ticket back in its queue at
-- its previous rank (rank_ms; queued_at unchanged), so they are called soon.
-- KEYS[1] tickets hash  KEYS[2] event stream  KEYS[3] event sequence
-- KEYS[4] target queue  KEYS[5] idempotency key
-- KEYS[6] the no-show set the ticket is listed in (store/keys.py no_shows)
-- ARGV[1] JSON {now, clerk, channel, use_idem, idem_ttl, id, queue}
-- Returns JSON {ticket, replayed?} | {err: ticket_not_found|not_no_show}
local a, prev = begin(KEYS[5])
if prev then return replay(KEYS[1], prev) end
local t = get_ticket(KEYS[1], a.id)
if not t then return fail('ticket_not_found') end
if t.status ~= 'no_show' then return fail('not_no_show', { status = t.status }) end
t.status = 'waiting'
t.queue = a.queue
t.finished_at = nil
if not string.find(a.queue, '^qc:') then t.counter = nil end
t.rank_ms = rank_of(t)
put_ticket(KEYS[1], t)
redis.call('ZADD', KEYS[4], t.rank_ms, t.id)
redis.call('ZREM', KEYS[6], t.id)
emit(KEYS[2], KEYS[3], a.channel, ticket_event('requeue', t, a))
return answer(KEYS[5], a, KEYS[1], { ticket = t.id })
