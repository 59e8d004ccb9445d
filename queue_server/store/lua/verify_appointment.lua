-- Verify a booking held for its OTP (book_appointment.lua with otp): the
-- right code before otp_expires books it (its place moves from the held
-- zsets to the booked sets, the phone's from pending to booked, the phone
-- cap checked again); a wrong code counts a try, and the max_tries-th wrong
-- try, like a code sent after otp_expires, releases the hold (status
-- expired). Verifying a booked booking again with its code replays the reply.
-- KEYS[1] booking record hash     KEYS[2] slot's booked set
-- KEYS[3] hour's booked set       KEYS[4] slot's held zset
-- KEYS[5] hour's held zset        KEYS[6] the phone's set of the day
-- KEYS[7] the phone's pending holds of the day   KEYS[8] event stream
-- KEYS[9] event sequence
-- ARGV[1] JSON {id, otp (the digest of the code sent), max_tries, per_phone,
--               sets_expire_at (ms), now, channel}
-- Returns JSON {id, status: booked, otp_sealed}
--   | {err: appointment_not_found|appointment_not_booked|invalid_otp (tries_left)|otp_expired|phone_limit}
local a = cjson.decode(ARGV[1])
local now = now_ms(a)
local rec = redis.call('HGETALL', KEYS[1])
if #rec == 0 then return fail('appointment_not_found') end
local r = {}
for i = 1, #rec, 2 do r[rec[i]] = rec[i + 1] end
if r.status == 'booked' and r.otp and r.otp == a.otp then
  return reply({ id = a.id, status = 'booked', otp_sealed = r.otp_sealed })
end
if r.status ~= 'pending_otp' then return fail('appointment_not_booked', { status = r.status }) end

local function release(reason)
  for i = 4, 5 do redis.call('ZREM', KEYS[i], a.id) end
  redis.call('ZREM', KEYS[7], a.id)
  redis.call('HSET', KEYS[1], 'status', 'expired', 'released_at', now)
  emit(KEYS[8], KEYS[9], a.channel, {
    type = 'appointment_release', ts = now, appointment = a.id, category = r.category,
    start = tonumber(r.start), reason = reason,
  })
end

if now >= tonumber(r.otp_expires) then
  release('expired')
  return fail('otp_expired')
end
if r.otp ~= a.otp then
  local tries = redis.call('HINCRBY', KEYS[1], 'otp_tries', 1)
  local left = tonumber(a.max_tries) - tries
  if left <= 0 then
    release('tries')
    left = 0
  end
  return fail('invalid_otp', { tries_left = left })
end
if redis.call('SCARD', KEYS[6]) >= tonumber(a.per_phone) then
  release('phone_limit')
  return fail('phone_limit', { limit = tonumber(a.per_phone) })
end
for i = 4, 5 do redis.call('ZREM', KEYS[i], a.id) end
redis.call('ZREM', KEYS[7], a.id)
for i = 2, 3 do
  redis.call('SADD', KEYS[i], a.id)
  expire_at(KEYS[i], a.sets_expire_at, now)
end
redis.call('SADD', KEYS[6], a.id)
expire_at(KEYS[6], a.sets_expire_at, now)
redis.call('HSET', KEYS[1], 'status', 'booked', 'verified_at', now)
emit(KEYS[8], KEYS[9], a.channel, {
  type = 'appointment_book', ts = now, appointment = a.id, category = r.category, start = tonumber(r.start),
})
return reply({ id = a.id, status = 'booked', otp_sealed = r.otp_sealed })
