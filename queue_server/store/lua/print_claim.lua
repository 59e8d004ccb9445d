-- Hand the due print jobs to an agent; each is leased until ack or lease end.
-- KEYS[1] print jobs hash  KEYS[2] print due zset
-- ARGV[1] JSON {now, lease_ms, limit}
-- Returns JSON {jobs: [job...]} (an empty list may come back as {})
local a = cjson.decode(ARGV[1])
local now = now_ms(a)
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(a.limit))
local out = {}
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[1], id)
  if not raw then
    redis.call('ZREM', KEYS[2], id)
  else
    local job = cjson.decode(raw)
    job.attempts = (tonumber(job.attempts) or 0) + 1
    job.sent = now
    redis.call('HSET', KEYS[1], id, cjson.encode(job))
    redis.call('ZADD', KEYS[2], now + tonumber(a.lease_ms), id)
    out[#out + 1] = job
  end
end
return reply({ jobs = out })
