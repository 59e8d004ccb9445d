-- Hand the due print jobs to an agent; each is leased until ack or lease end.
-- A first print is dropped, not printed late, when its ticket is no longer
-- waiting (already called, served or expired while the printer was down) or
-- when it was queued more than max_age_ms ago (the kiosk told the citizen to
-- photograph the number; a late ticket would land in the next person's hand).
-- A dropped first print is remembered as not printed (KEYS[4], KEYS[5]).
-- A first print queued less than grace_ms ago prints whatever its ticket's
-- status: the citizen is still at the kiosk, and a clerk's Next can call the
-- ticket between the issue and the claim (measured by bench/bench_soak.py).
-- A staff reprint always prints.
-- KEYS[1] print jobs hash  KEYS[2] print due zset  KEYS[3] tickets hash
-- KEYS[4] print skipped hash (ticket id -> JSON {ticket, number, reason, at})
-- KEYS[5] recent skipped list (the same JSON, newest first, 20 kept)
-- ARGV[1] JSON {now, lease_ms, limit, max_age_ms (0 or absent: no age limit), skipped_ttl_ms,
--               grace_ms (0 or absent: none)}
-- Returns JSON {jobs: [job...], dropped: [job id...]} (an empty list may come back as {})
local a = cjson.decode(ARGV[1])
local now = now_ms(a)
local max_age = tonumber(a.max_age_ms) or 0
local grace = tonumber(a.grace_ms) or 0
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(a.limit))
local out, dropped = {}, {}
-- Why a job must not print (nil: print it).
local function stale(job)
  if type(job.data) == 'table' and job.data.reprint then return nil end
  local age = now - (tonumber(job.created) or now)
  local t = get_ticket(KEYS[3], job.ticket or '')
  if t ~= nil and t.status ~= 'waiting' and age >= grace then return 'not_waiting' end
  if max_age > 0 and age > max_age then return 'too_old' end
  return nil
end
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[1], id)
  local job = raw and cjson.decode(raw)
  local why = job and stale(job)
  if not raw or why then
    redis.call('ZREM', KEYS[2], id)
    redis.call('HDEL', KEYS[1], id)
    if raw then
      dropped[#dropped + 1] = id
      local number = type(job.data) == 'table' and job.data.number or nil
      local entry = cjson.encode({ ticket = nz(job.ticket), number = nz(number), reason = why, at = now })
      redis.call('HSET', KEYS[4], id, entry)
      redis.call('LPUSH', KEYS[5], entry)
      redis.call('LTRIM', KEYS[5], 0, 19)
      if a.skipped_ttl_ms then
        redis.call('PEXPIRE', KEYS[4], tonumber(a.skipped_ttl_ms))
        redis.call('PEXPIRE', KEYS[5], tonumber(a.skipped_ttl_ms))
      end
    end
  else
    job.attempts = (tonumber(job.attempts) or 0) + 1
    job.sent = now
    redis.call('HSET', KEYS[1], id, cjson.encode(job))
    redis.call('ZADD', KEYS[2], now + tonumber(a.lease_ms), id)
    out[#out + 1] = job
  end
end
return reply({ jobs = out, dropped = dropped })
