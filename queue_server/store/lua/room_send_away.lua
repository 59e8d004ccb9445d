-- The room is full: a waiting ticket is told to come back at about `at`
-- (domain/room.py) and counts as out of the room until then. Once per
-- ticket: a second call (a replayed issue) changes nothing.
-- KEYS[1] tickets hash  KEYS[2] room away zset  KEYS[3] event stream  KEYS[4] event sequence
-- ARGV[1] JSON {now, channel, id, at (ms), predicted, seats}
-- Returns JSON {ticket, come_back_at, stored} | {err: ticket_not_found|ticket_not_waiting}
local a = cjson.decode(ARGV[1])
local t = get_ticket(KEYS[1], a.id)
if not t then return fail('ticket_not_found') end
if t.status ~= 'waiting' then return fail('ticket_not_waiting') end
if t.come_back_at == nil or t.come_back_at == cjson.null then
  t.come_back_at = tonumber(a.at)
  put_ticket(KEYS[1], t)
  -- the entries of tickets long past their time are dropped on the way
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now_ms(a) - 86400000))
  redis.call('ZADD', KEYS[2], t.come_back_at, t.id)
  emit(KEYS[3], KEYS[4], a.channel, ticket_event('come_back', t, a, {
    come_back_at = t.come_back_at, predicted = a.predicted, seats = a.seats,
  }))
end
return with_stored(KEYS[1], { ticket = t.id, come_back_at = t.come_back_at })
