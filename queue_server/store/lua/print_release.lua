-- Make leased or backed-off jobs due now: the agent that held them went
-- away, or the printer came back online.
-- KEYS[1] print jobs hash  KEYS[2] print due zset
-- ARGV[1] JSON {now, jobs: [id...] | all: true}
-- Returns JSON {released: n}
local a = cjson.decode(ARGV[1])
local now = now_ms(a)
local ids
if a.all then
  ids = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf')
else
  ids = a.jobs or {}
end
local n = 0
for _, id in ipairs(ids) do
  if redis.call('HEXISTS', KEYS[1], id) == 1 then
    redis.call('ZADD', KEYS[2], now, id)
    n = n + 1
  end
end
return reply({ released = n })
