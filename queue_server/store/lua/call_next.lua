-- Call the next ticket for a counter (finishing the one it serves first).
-- KEYS[1] counter hash   KEYS[2] tickets hash  KEYS[3] event stream
-- KEYS[4] event sequence KEYS[5] recent calls  KEYS[6] service averages
-- KEYS[7] idempotency key
-- KEYS[8] the counter's statistics of the day (store/keys.py counter_stats)
-- KEYS[9..] the queues this counter serves, described by ARGV's `queues`
-- KEYS[last] the room's away set (a called ticket is no longer away)
-- ARGV[1] JSON {now, counter, clerk, channel, use_idem, idem_ttl, debounce_ms,
--               factor, categories: {CAT: {target_ms, service_ms}}, stats_ttl,
--               queues: [{category, profile_index, priority}] aligned with KEYS[9..]}
-- Order (mirrors queue_server/domain/selection.py): starving first (longest
-- since it joined the queue, then rank), then priority, then profile index
-- (-1 = the counter's own queue), then rank. A head starves when the time since
-- it joined (its ticket's queued_at) exceeds factor x its category's target.
-- Returns JSON {ticket, finished?} | {ticket, debounced=true} | {err}
local a, prev = begin(KEYS[7])
if prev then return replay(KEYS[2], prev) end

if redis.call('HGET', KEYS[1], 'status') == 'paused' then
  return fail('counter_paused')
end
local now = now_ms(a)
local cur = redis.call('HGET', KEYS[1], 'ticket')
if cur and cur ~= '' then
  local at = tonumber(redis.call('HGET', KEYS[1], 'called_at')) or 0
  if now - at < tonumber(a.debounce_ms) then
    return answer(KEYS[7], a, KEYS[2], { ticket = cur, debounced = true })
  end
end

local function key_of(h)
  if h.starving then return { 0, h.joined, h.rank, 0 } end
  return { 1, h.priority and 0 or 1, h.profile_index, h.rank }
end
local function less(x, y)
  for i = 1, 4 do
    if x[i] ~= y[i] then return x[i] < y[i] end
  end
  return false
end

local best, best_key = nil, nil
for i, q in ipairs(a.queues) do
  local head = redis.call('ZRANGE', KEYS[8 + i], 0, 0, 'WITHSCORES')
  if head[1] then
    local rank = tonumber(head[2])
    local ht = get_ticket(KEYS[2], head[1])
    local joined = (ht and joined_at(ht)) or rank
    local cat = a.categories[q.category]
    local target = cat and tonumber(cat.target_ms) or 0
    local h = {
      id = head[1], key = KEYS[8 + i], rank = rank, joined = joined, priority = q.priority == true,
      profile_index = tonumber(q.profile_index),
      starving = target > 0 and (now - joined) > tonumber(a.factor) * target,
    }
    local k = key_of(h)
    if best_key == nil or less(k, best_key) then best, best_key = h, k end
  end
end

local finished = finish_current(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6], a, 'done', KEYS[8])
if not best then
  local r = { err = 'queue_empty' }
  if finished then r.finished = finished.id end
  return answer(KEYS[7], a, KEYS[2], r)
end
redis.call('ZREM', best.key, best.id)
local t = get_ticket(KEYS[2], best.id)
call_ticket(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], a, t, 'call', KEYS[8], KEYS[#KEYS])
local r = { ticket = t.id }
if finished then r.finished = finished.id end
return answer(KEYS[7], a, KEYS[2], r)
