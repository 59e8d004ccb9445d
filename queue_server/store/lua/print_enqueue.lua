-- Queue a ticket for printing, once per ticket (a reprint gets its own job id).
-- A first print that print_claim dropped unprinted is not queued again.
-- KEYS[1] print jobs hash  KEYS[2] print due zset  KEYS[3] print done hash  KEYS[4] reprint counts hash
-- KEYS[5] print skipped hash
-- ARGV[1] JSON {now, ticket, reprint, data}
-- Returns JSON {job, queued, state: queued|duplicate|done|not_printed}
local a = cjson.decode(ARGV[1])
local id = a.ticket
if a.reprint then
  local n = redis.call('HINCRBY', KEYS[4], a.ticket, 1)
  id = a.ticket .. '.r' .. n
  a.data.reprint = true
end
if redis.call('HEXISTS', KEYS[3], id) == 1 then
  return reply({ job = id, queued = false, state = 'done' })
end
if redis.call('HEXISTS', KEYS[5], id) == 1 then
  return reply({ job = id, queued = false, state = 'not_printed' })
end
if redis.call('HEXISTS', KEYS[1], id) == 1 then
  return reply({ job = id, queued = false, state = 'duplicate' })
end
local job = { id = id, ticket = a.ticket, attempts = 0, created = now_ms(a), data = a.data }
redis.call('HSET', KEYS[1], id, cjson.encode(job))
redis.call('ZADD', KEYS[2], now_ms(a), id)
return reply({ job = id, queued = true, state = 'queued' })
