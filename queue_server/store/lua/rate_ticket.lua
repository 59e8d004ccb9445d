-- Store a citizen's satisfaction rating: once per ticket, after service.
-- KEYS[1] tickets hash  KEYS[2] event stream  KEYS[3] event sequence
-- ARGV[1] JSON {now, channel, id, level, scale, via}
-- Returns JSON {ticket, level} | {err: ticket_not_found|not_served|already_rated}
local a = cjson.decode(ARGV[1])
local t = get_ticket(KEYS[1], a.id)
if not t then return fail('ticket_not_found') end
if t.status ~= 'done' then return fail('not_served', { status = t.status }) end
if t.rating ~= nil and t.rating ~= cjson.null then return fail('already_rated') end
t.rating = tonumber(a.level)
t.rating_scale = tonumber(a.scale)
put_ticket(KEYS[1], t)
emit(KEYS[2], KEYS[3], a.channel, ticket_event('rating', t, a, {
  level = a.level, scale = a.scale, via = nz(a.via),
}))
return reply({ ticket = t.id, level = t.rating })
