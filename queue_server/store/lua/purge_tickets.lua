-- Forget finished tickets of past days (their events stay in the log).
-- KEYS[1] tickets hash
-- ARGV[1] JSON {ids: [ticket id...], before_day: "YYYYMMDD"}
-- Only tickets of a day before `before_day` that are no longer waiting or
-- being served are removed.
-- Returns JSON {purged}
local a = cjson.decode(ARGV[1])
local purged = 0
for _, id in ipairs(a.ids) do
  local t = get_ticket(KEYS[1], id)
  if t and tostring(t.day) < a.before_day and t.status ~= 'waiting' and t.status ~= 'called' then
    redis.call('HDEL', KEYS[1], id)
    purged = purged + 1
  end
end
return reply({ purged = purged })
