-- Mark as no-show the bookings still 'booked' whose check-in window has
-- closed (the slot's start + late_ms is before now): the end-of-day sweep
-- and the periodic job. The store passes the day's candidates' records.
-- KEYS[1] event stream   KEYS[2] event sequence   KEYS[3..] booking record hashes
-- ARGV[1] JSON {late_ms, now, channel, clerk}
-- Returns JSON {no_shows: [id...]}
local a = cjson.decode(ARGV[1])
local now = now_ms(a)
local out = {}
for i = 3, #KEYS do
  local status, start, category, id = unpack(redis.call('HMGET', KEYS[i], 'status', 'start', 'category', 'id'))
  if status == 'booked' and tonumber(start) + tonumber(a.late_ms) < now then
    redis.call('HSET', KEYS[i], 'status', 'no_show', 'no_show_at', now)
    emit(KEYS[1], KEYS[2], a.channel, {
      type = 'appointment_no_show', ts = now, appointment = id, category = category, start = tonumber(start),
    })
    out[#out + 1] = id
  end
end
if #out == 0 then return '{"no_shows":[]}' end
return reply({ no_shows = out })
