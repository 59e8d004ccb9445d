-- A citizen sent away from a full room gives a phone for one "your turn is
-- near" notice. The phone goes to the room's phone hash only (never the
-- ticket record or the event log); the ticket notes that a notice is due.
-- KEYS[1] tickets hash  KEYS[2] room phones hash  KEYS[3] event stream  KEYS[4] event sequence
-- ARGV[1] JSON {now, channel, id, phone (E.164), device, lang (of the notice)}
-- Returns JSON {ticket, stored} | {err: ticket_not_found|ticket_not_waiting|notice_sent}
local a = cjson.decode(ARGV[1])
local t = get_ticket(KEYS[1], a.id)
if not t then return fail('ticket_not_found') end
if t.status ~= 'waiting' then return fail('ticket_not_waiting') end
if t.notice == 'sent' then return fail('notice_sent') end
redis.call('HSET', KEYS[2], t.id, a.phone)
t.notice = 'pending'
t.notice_lang = a.lang == 'en' and 'en' or 'vi'
put_ticket(KEYS[1], t)
emit(KEYS[3], KEYS[4], a.channel, ticket_event('ticket_phone', t, a, { device = nz(a.device) }))
return with_stored(KEYS[1], { ticket = t.id })
