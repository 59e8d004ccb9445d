-- Forget the holders of bookings whose slot began before `before`
-- (keep_personal_days ago): their personal hash (name, phone) is deleted,
-- the record loses the phone's digest and the OTP fields, and its code
-- leaves the site's code index (no kiosk finds it any more). The store
-- already lets both expire then; this is the end-of-day job's explicit
-- delete, so nothing outlives the retention if an expiry was lost.
-- KEYS[1] codes hash (code -> id)
-- KEYS[2i] booking record hash  KEYS[2i+1] its personal hash  (i = 1..n)
-- ARGV[1] JSON {before (ms)}
-- Returns JSON {forgotten: [ids]}
local a = cjson.decode(ARGV[1])
local before = tonumber(a.before)
local out = {}
for i = 2, #KEYS, 2 do
  local id, start, code = unpack(redis.call('HMGET', KEYS[i], 'id', 'start', 'code'))
  if (not start) or tonumber(start) < before then
    local had = redis.call('DEL', KEYS[i + 1])
    if id then
      redis.call('HDEL', KEYS[i], 'phone_key', 'otp', 'otp_sealed')
    end
    if id and code and redis.call('HGET', KEYS[1], code) == id then
      redis.call('HDEL', KEYS[1], code)
    end
    if had == 1 or id then table.insert(out, id or '') end
  end
end
return reply({ forgotten = out })
