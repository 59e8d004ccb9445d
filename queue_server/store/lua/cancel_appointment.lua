-- Cancel a booking: by its holder (token digest given) only until change_until
-- before the slot, or by staff (token '') while it is booked. Its place is
-- held back until hold_until and then returns to sale (against slot trading).
-- KEYS[1] booking record hash     KEYS[2] slot's booked set
-- KEYS[3] hour's booked set       KEYS[4] slot's held zset
-- KEYS[5] hour's held zset        KEYS[6] the phone's set of the day
-- KEYS[7] event stream            KEYS[8] event sequence
-- ARGV[1] JSON {id, token (digest, or '' for staff), slot (the record's, as read),
--               before_ms (the holder's deadline: this long before the start),
--               hold_until (ms), sets_expire_at (ms), clerk ('' for the holder), now, channel}
-- Returns JSON {id, status} | {err: appointment_not_found|appointment_not_booked|change_closed|conflict}
local a = cjson.decode(ARGV[1])
local now = now_ms(a)
local rec = redis.call('HGETALL', KEYS[1])
if #rec == 0 then return fail('appointment_not_found') end
local r = {}
for i = 1, #rec, 2 do r[rec[i]] = rec[i + 1] end
if a.token ~= '' and r.token ~= a.token then return fail('appointment_not_found') end
if r.status ~= 'booked' then return fail('appointment_not_booked', { status = r.status }) end
if r.slot ~= a.slot then return fail('conflict', { detail = 'moved' }) end
local start = tonumber(r.start)
if a.token ~= '' and now >= start - tonumber(a.before_ms) then return fail('change_closed') end

for i = 2, 3 do redis.call('SREM', KEYS[i], a.id) end
redis.call('SREM', KEYS[6], a.id)
local hold = tonumber(a.hold_until)
if hold > now then
  for i = 4, 5 do
    redis.call('ZADD', KEYS[i], hold, a.id)
    expire_at(KEYS[i], a.sets_expire_at, now)
  end
end
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'cancelled_at', now, 'cancelled_by', a.clerk)
emit(KEYS[7], KEYS[8], a.channel, {
  type = 'appointment_cancel', ts = now, appointment = a.id, category = r.category, start = start, clerk = a.clerk,
})
return reply({ id = a.id, status = 'cancelled' })
