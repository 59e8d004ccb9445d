-- Book one appointment slot. Refused when the slot's places (booked plus
-- cancelled places still held back) reach its capacity, when the hour's
-- online budget is spent, or when the phone already has per_phone bookings
-- on that day (every category). The code is the first candidate not taken
-- on the site. The name and phone go to their own hash, never to the record
-- or the event; both expire at expire_at. With an OTP (otp given, the
-- digest of the code) the booking is only held: status pending_otp, its
-- place in the held zsets and the phone's pending zset until otp_expires, so
-- it counts against the slot, the hour and the phone cap until then;
-- verify_appointment.lua books it.
-- KEYS[1] booking record hash     KEYS[2] personal hash (name, phone)
-- KEYS[3] slot's booked set       KEYS[4] hour's booked set (the category's)
-- KEYS[5] slot's held zset        KEYS[6] hour's held zset
-- KEYS[7] the phone's set of the day   KEYS[8] codes hash (code -> id)
-- KEYS[9] the day's zset (id -> start) KEYS[10] event stream
-- KEYS[11] event sequence         KEYS[12] idempotency key
-- KEYS[13] the phone's pending holds of the day (zset id -> otp_expires)
-- KEYS[14] the notices still to do (zset id -> now): the booking's
--          confirmation and reminders, done after the reply, then removed
-- ARGV[1] JSON {id, codes (candidates), token (digest), sealed (the token,
--               sealed by the Idempotency-Key, for a replay), category, start (ms),
--               slot, hour, day, capacity, hour_budget, per_phone, name, phone,
--               phone_key, expire_at (ms), sets_expire_at (ms), now, channel,
--               use_idem, idem_ttl, lang, otp ('' = no OTP: booked at once),
--               otp_sealed (the token sealed by the code), otp_expires (ms)}
-- Returns JSON {id, code, category, start, status (booked|pending_otp), sealed}
--   | {err: slot_full|phone_limit|conflict}
local a, prev = begin(KEYS[12])
if prev then return prev end
local now = now_ms(a)

redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[13], '-inf', now)
local pending = a.otp ~= nil and a.otp ~= ''
local in_slot = redis.call('SCARD', KEYS[3]) + redis.call('ZCARD', KEYS[5])
local in_hour = redis.call('SCARD', KEYS[4]) + redis.call('ZCARD', KEYS[6])
if in_slot >= tonumber(a.capacity) or in_hour >= tonumber(a.hour_budget) then
  return fail('slot_full')
end
if redis.call('SCARD', KEYS[7]) + redis.call('ZCARD', KEYS[13]) >= tonumber(a.per_phone) then
  return fail('phone_limit', { limit = tonumber(a.per_phone) })
end
local code
for _, c in ipairs(a.codes) do
  if redis.call('HSETNX', KEYS[8], c, a.id) == 1 then code = c break end
end
if not code then return fail('conflict', { detail = 'code' }) end

local status = pending and 'pending_otp' or 'booked'
redis.call('HSET', KEYS[1], 'id', a.id, 'code', code, 'category', a.category, 'start', a.start,
  'slot', a.slot, 'hour', a.hour, 'day', a.day, 'status', status, 'token', a.token,
  'phone_key', a.phone_key, 'created_at', now, 'lang', a.lang or 'vi')
expire_at(KEYS[1], a.expire_at, now)
redis.call('HSET', KEYS[2], 'name', a.name, 'phone', a.phone)
expire_at(KEYS[2], a.expire_at, now)
if pending then
  local until_ms = tonumber(a.otp_expires)
  redis.call('HSET', KEYS[1], 'otp', a.otp, 'otp_sealed', a.otp_sealed, 'otp_expires', until_ms, 'otp_tries', 0)
  for _, k in ipairs({ KEYS[5], KEYS[6], KEYS[13] }) do
    redis.call('ZADD', k, until_ms, a.id)
    expire_at(k, a.sets_expire_at, now)
  end
else
  for _, k in ipairs({ KEYS[3], KEYS[4], KEYS[7] }) do
    redis.call('SADD', k, a.id)
    expire_at(k, a.sets_expire_at, now)
  end
end
redis.call('ZADD', KEYS[9], a.start, a.id)
expire_at(KEYS[9], a.expire_at, now)
if pending then
  emit(KEYS[10], KEYS[11], a.channel, {
    type = 'appointment_hold', ts = now, appointment = a.id, category = a.category, start = a.start,
    until_ms = tonumber(a.otp_expires),
  })
else
  emit(KEYS[10], KEYS[11], a.channel, {
    type = 'appointment_book', ts = now, appointment = a.id, category = a.category, start = a.start,
  })
  redis.call('ZADD', KEYS[14], now, a.id)
end
return idem_put(KEYS[12], a, reply({
  id = a.id, code = code, category = a.category, start = a.start, status = status, sealed = a.sealed,
}))
