-- An agent's answer for a job: printed (forget it, remember it as done) or
-- failed (retry after an exponential backoff).
-- KEYS[1] print jobs hash  KEYS[2] print due zset  KEYS[3] print done hash
-- ARGV[1] JSON {now, job, ok, error, backoff_ms, backoff_max_ms, done_ttl_ms}
-- Returns JSON {state: done|retry|unknown, retry_in}
local a = cjson.decode(ARGV[1])
local now = now_ms(a)
local raw = redis.call('HGET', KEYS[1], a.job)
if not raw then
  if redis.call('HEXISTS', KEYS[3], a.job) == 1 then
    return reply({ state = 'done', duplicate = true })
  end
  return reply({ state = 'unknown' })
end
if a.ok then
  redis.call('HDEL', KEYS[1], a.job)
  redis.call('ZREM', KEYS[2], a.job)
  redis.call('HSET', KEYS[3], a.job, now)
  redis.call('PEXPIRE', KEYS[3], tonumber(a.done_ttl_ms))
  return reply({ state = 'done' })
end
local job = cjson.decode(raw)
local attempts = tonumber(job.attempts) or 1
if attempts < 1 then attempts = 1 end
local delay = tonumber(a.backoff_ms) * (2 ^ (attempts - 1))
if delay > tonumber(a.backoff_max_ms) then delay = tonumber(a.backoff_max_ms) end
job.last_error = nz(a.error)
job.failed_at = now
redis.call('HSET', KEYS[1], a.job, cjson.encode(job))
redis.call('ZADD', KEYS[2], now + delay, a.job)
return reply({ state = 'retry', retry_in = delay })
