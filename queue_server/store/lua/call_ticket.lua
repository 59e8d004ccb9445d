-- Call one waiting ticket out of order (the clerk types its number).
-- KEYS[1] counter hash   KEYS[2] tickets hash  KEYS[3] event stream
-- KEYS[4] event sequence KEYS[5] recent calls  KEYS[6] service averages
-- KEYS[7] idempotency key
-- KEYS[8] the counter's statistics of the day (store/keys.py counter_stats)
-- KEYS[9..] every queue of the site, named by ARGV's `queue_names`
-- KEYS[last] the room's away set (a called ticket is no longer away)
-- ARGV[1] JSON {now, counter, clerk, channel, use_idem, idem_ttl, id, stats_ttl,
--               categories, queue_names: [logical name aligned with KEYS[9..]]}
-- Returns JSON {ticket, finished?} | {err: not_found|not_waiting|counter_paused}
local a, prev = begin(KEYS[7])
if prev then return replay(KEYS[2], prev) end
if redis.call('HGET', KEYS[1], 'status') == 'paused' then
  return fail('counter_paused')
end
local t = get_ticket(KEYS[2], a.id)
if not t then return fail('ticket_not_found') end
if t.status ~= 'waiting' then return fail('ticket_not_waiting', { status = t.status }) end
local qkey = nil
for i, name in ipairs(a.queue_names) do
  if name == t.queue then qkey = KEYS[8 + i] end
end
if qkey == nil then return fail('ticket_not_waiting', { status = t.status }) end
if redis.call('ZREM', qkey, t.id) == 0 then return fail('ticket_not_waiting', { status = t.status }) end
local finished = finish_current(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6], a, 'done', KEYS[8])
call_ticket(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], a, t, 'call', KEYS[8], KEYS[#KEYS])
local r = { ticket = t.id }
if finished then r.finished = finished.id end
return answer(KEYS[7], a, KEYS[2], r)
