-- End of the working day: every ticket still waiting or called expires.
-- KEYS[1] tickets hash  KEYS[2] event stream  KEYS[3] event sequence
-- KEYS[4..3+n] every queue of the site; KEYS[4+n..] every counter hash
-- ARGV[1] JSON {now, channel, n_queues, clerk}
-- Returns JSON {expired}
local a = cjson.decode(ARGV[1])
local n = tonumber(a.n_queues)
local expired = 0
local function expire(id)
  local t = get_ticket(KEYS[1], id)
  if t and (t.status == 'waiting' or t.status == 'called') then
    t.status = 'expired'
    t.finished_at = now_ms(a)
    t.queue = nil
    put_ticket(KEYS[1], t)
    emit(KEYS[2], KEYS[3], a.channel, ticket_event('expire', t, a))
    expired = expired + 1
  end
end
for i = 4, 3 + n do
  for _, id in ipairs(redis.call('ZRANGE', KEYS[i], 0, -1)) do expire(id) end
  redis.call('DEL', KEYS[i])
end
for i = 4 + n, #KEYS do
  local cur = redis.call('HGET', KEYS[i], 'ticket')
  if cur and cur ~= '' then expire(cur) end
  clear_counter(KEYS[i])
end
return reply({ expired = expired })
