-- Delete the phones given for a notice of tickets that no longer wait
-- (called, served, expired, gone): personal data kept no longer than needed.
-- `all` (the end of the day) deletes every one.
-- KEYS[1] tickets hash  KEYS[2] room phones hash
-- ARGV[1] JSON {all}
-- Returns JSON {forgotten: n}
local a = cjson.decode(ARGV[1])
local ids = redis.call('HKEYS', KEYS[2])
local n = 0
for _, id in ipairs(ids) do
  local t = get_ticket(KEYS[1], id)
  if a.all == true or not t or t.status ~= 'waiting' then
    redis.call('HDEL', KEYS[2], id)
    n = n + 1
  end
end
return reply({ forgotten = n })
