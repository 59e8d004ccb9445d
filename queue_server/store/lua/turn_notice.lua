-- Claim the one "your turn is near" notice of a ticket: its phone is taken
-- out of the room's phone hash (so the notice goes once, whoever asks twice)
-- and handed to the caller to send; the ticket notes the notice as sent.
-- KEYS[1] tickets hash  KEYS[2] room phones hash  KEYS[3] event stream  KEYS[4] event sequence
-- ARGV[1] JSON {now, channel, id, ahead}
-- Returns JSON {ticket, phone} | {err: no_notice|ticket_not_waiting}
local a = cjson.decode(ARGV[1])
local phone = redis.call('HGET', KEYS[2], a.id)
if not phone then return fail('no_notice') end
redis.call('HDEL', KEYS[2], a.id)
local t = get_ticket(KEYS[1], a.id)
if not t or t.status ~= 'waiting' then return fail('ticket_not_waiting') end
t.notice = 'sent'
t.notice_at = now_ms(a)
put_ticket(KEYS[1], t)
emit(KEYS[3], KEYS[4], a.channel, ticket_event('turn_notice', t, a, { ahead = a.ahead }))
return reply({ ticket = t.id, phone = phone })
