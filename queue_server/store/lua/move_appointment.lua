-- Move a booking to another slot of its category, by its holder, until
-- before_ms before its current slot. The new slot is checked as a booking is
-- (capacity, the hour's budget, the phone's cap on the new day when the day
-- changes); the old place is held back until hold_until.
-- KEYS[1] booking record hash     KEYS[2] personal hash
-- KEYS[3] old slot's booked set   KEYS[4] old hour's booked set
-- KEYS[5] old slot's held zset    KEYS[6] old hour's held zset
-- KEYS[7] the phone's set, old day
-- KEYS[8] new slot's booked set   KEYS[9] new hour's booked set
-- KEYS[10] new slot's held zset   KEYS[11] new hour's held zset
-- KEYS[12] the phone's set, new day
-- KEYS[13] old day's zset         KEYS[14] new day's zset
-- KEYS[15] event stream           KEYS[16] event sequence
-- ARGV[1] JSON {id, token (digest), slot (the record's, as read), before_ms, hold_until,
--               new = {start, slot, hour, day, capacity, hour_budget},
--               per_phone, expire_at, sets_expire_at, old_sets_expire_at, now, channel}
-- Returns JSON {id, status, start} | {err: appointment_not_found|appointment_not_booked|
--               change_closed|slot_full|phone_limit|conflict}
local a = cjson.decode(ARGV[1])
local now = now_ms(a)
local rec = redis.call('HGETALL', KEYS[1])
if #rec == 0 then return fail('appointment_not_found') end
local r = {}
for i = 1, #rec, 2 do r[rec[i]] = rec[i + 1] end
if r.token ~= a.token then return fail('appointment_not_found') end
if r.status ~= 'booked' then return fail('appointment_not_booked', { status = r.status }) end
if r.slot ~= a.slot then return fail('conflict', { detail = 'moved' }) end
local start = tonumber(r.start)
if now >= start - tonumber(a.before_ms) then return fail('change_closed') end
local n = a.new
if n.slot == r.slot then return reply({ id = a.id, status = 'booked', start = start }) end

redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[11], '-inf', now)
local in_slot = redis.call('SCARD', KEYS[8]) + redis.call('ZCARD', KEYS[10])
local in_hour = redis.call('SCARD', KEYS[9]) + redis.call('ZCARD', KEYS[11])
if redis.call('SISMEMBER', KEYS[9], a.id) == 1 then in_hour = in_hour - 1 end  -- same hour: its own place
if in_slot >= tonumber(n.capacity) or in_hour >= tonumber(n.hour_budget) then return fail('slot_full') end
if n.day ~= r.day and redis.call('SCARD', KEYS[12]) >= tonumber(a.per_phone) then
  return fail('phone_limit', { limit = tonumber(a.per_phone) })
end

for i = 3, 4 do redis.call('SREM', KEYS[i], a.id) end
redis.call('SREM', KEYS[7], a.id)
local hold = tonumber(a.hold_until)
if hold > now then
  for i = 5, 6 do
    redis.call('ZADD', KEYS[i], hold, a.id)
    expire_at(KEYS[i], a.old_sets_expire_at, now)
  end
end
for _, i in ipairs({ 8, 9, 12 }) do
  redis.call('SADD', KEYS[i], a.id)
  expire_at(KEYS[i], a.sets_expire_at, now)
end
redis.call('ZREM', KEYS[13], a.id)
redis.call('ZADD', KEYS[14], n.start, a.id)
expire_at(KEYS[14], a.expire_at, now)
redis.call('HSET', KEYS[1], 'start', n.start, 'slot', n.slot, 'hour', n.hour, 'day', n.day)
expire_at(KEYS[1], a.expire_at, now)
if redis.call('EXISTS', KEYS[2]) == 1 then expire_at(KEYS[2], a.expire_at, now) end
emit(KEYS[15], KEYS[16], a.channel, {
  type = 'appointment_move', ts = now, appointment = a.id, category = r.category, start = n.start,
  from_start = start,
})
return reply({ id = a.id, status = 'booked', start = n.start })
