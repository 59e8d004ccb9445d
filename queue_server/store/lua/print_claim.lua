-- Hand the due print jobs to an agent; each is leased until ack or lease end.
-- A first print of a ticket that is no longer waiting (already called,
-- served or expired while the printer was down) is dropped, not printed
-- late; a staff reprint always prints.
-- KEYS[1] print jobs hash  KEYS[2] print due zset  KEYS[3] tickets hash
-- ARGV[1] JSON {now, lease_ms, limit}
-- Returns JSON {jobs: [job...], dropped: [job id...]} (an empty list may come back as {})
local a = cjson.decode(ARGV[1])
local now = now_ms(a)
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(a.limit))
local out, dropped = {}, {}
local function stale(job)
  if type(job.data) == 'table' and job.data.reprint then return false end
  local t = get_ticket(KEYS[3], job.ticket or '')
  return t ~= nil and t.status ~= 'waiting'
end
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[1], id)
  local job = raw and cjson.decode(raw)
  if not raw or stale(job) then
    redis.call('ZREM', KEYS[2], id)
    redis.call('HDEL', KEYS[1], id)
    if raw then dropped[#dropped + 1] = id end
  else
    job.attempts = (tonumber(job.attempts) or 0) + 1
    job.sent = now
    redis.call('HSET', KEYS[1], id, cjson.encode(job))
    redis.call('ZADD', KEYS[2], now + tonumber(a.lease_ms), id)
    out[#out + 1] = job
  end
end
return reply({ jobs = out, dropped = dropped })
