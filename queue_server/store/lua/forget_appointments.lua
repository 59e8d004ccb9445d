-- Forget the holders of bookings whose slot began before `before`
-- (keep_personal_days ago): their personal hash (name, phone) is deleted,
-- and the record loses the phone's digest and the OTP fields. The store
-- already lets both expire then; this is the end-of-day job's explicit
-- delete, so nothing outlives the retention if an expiry was lost.
-- KEYS[2i-1] booking record hash  KEYS[2i] its personal hash  (i = 1..n)
-- ARGV[1] JSON {before (ms)}
-- Returns JSON {forgotten: [ids]}
local a = cjson.decode(ARGV[1])
local before = tonumber(a.before)
local out = {}
for i = 1, #KEYS, 2 do
  local id, start = unpack(redis.call('HMGET', KEYS[i], 'id', 'start'))
  if (not start) or tonumber(start) < before then
    local had = redis.call('DEL', KEYS[i + 1])
    if id then
      redis.call('HDEL', KEYS[i], 'phone_key', 'otp', 'otp_sealed')
    end
    if had == 1 or id then table.insert(out, id or '') end
  end
end
return reply({ forgotten = out })
