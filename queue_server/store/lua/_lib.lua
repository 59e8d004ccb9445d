-- Shared helpers, prepended to every script by queue_server/store/scripts.py.
-- Nothing here touches a key that the calling script did not receive in KEYS.

local function now_ms(a)
  return tonumber(a.now)
end

local function reply(t)
  return cjson.encode(t)
end

local function fail(code, extra)
  local t = extra or {}
  t.err = code
  return cjson.encode(t)
end

-- Fixed-window rate limit: `by` more hits (1 unless given) on the bucket
-- `key`, whose window its first hits start; returns (hits in the window, ms
-- until it resets).
local function rate_hit(key, window_ms, by)
  by = tonumber(by) or 1
  local n = redis.call('INCRBY', key, by)
  if n == by then redis.call('PEXPIRE', key, window_ms) end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    redis.call('PEXPIRE', key, window_ms)
    ttl = tonumber(window_ms)
  end
  return n, ttl
end

-- Idempotency: a stored reply for this key wins; otherwise run and store.
-- begin() decodes ARGV[1] and returns (args, the stored reply or nil).
local function begin(kidem)
  local a = cjson.decode(ARGV[1])
  if a.use_idem == true then
    local prev = redis.call('GET', kidem)
    if prev then
      local t = cjson.decode(prev)
      t.replayed = true
      return a, cjson.encode(t)
    end
  end
  return a, nil
end

local function idem_put(kidem, a, result)
  if a.use_idem == true then
    redis.call('SET', kidem, result, 'PX', a.idem_ttl)
  end
  return result
end

-- The reply of a clerk action, stored for its Idempotency-Key as it is, and
-- sent with `stored`: the ticket's record as it is now, so the caller needs
-- no second round trip to read it. A replay (`prev`, from begin) gets the
-- record as it is at the replay.
local function with_stored(ktickets, r)
  if r.ticket and r.ticket ~= '' then r.stored = redis.call('HGET', ktickets, r.ticket) or nil end
  return reply(r)
end

local function answer(kidem, a, ktickets, r)
  idem_put(kidem, a, reply(r))
  return with_stored(ktickets, r)
end

local function replay(ktickets, prev)
  return with_stored(ktickets, cjson.decode(prev))
end

local function get_ticket(ktickets, id)
  local raw = redis.call('HGET', ktickets, id)
  if not raw then return nil end
  return cjson.decode(raw)
end

local function put_ticket(ktickets, t)
  redis.call('HSET', ktickets, t.id, cjson.encode(t))
end

-- A ticket's rank in its queue (its ZSET score): the issue time of a walk-in,
-- the slot of an appointment. Records from before rank_ms ranked by queued_at.
local function rank_of(t)
  return tonumber(t.rank_ms) or tonumber(t.queued_at) or tonumber(t.issued_at)
end

-- When a ticket joined the queue (issue or check-in time): what its wait and
-- the starvation guard measure from. Kept across transfers and requeues.
local function joined_at(t)
  return tonumber(t.queued_at) or tonumber(t.issued_at)
end

local function nz(v)
  if v == nil or v == cjson.null then return '' end
  return tostring(v)
end

-- Append one event to the site's stream and publish it with its sequence.
local function emit(kevents, kseq, channel, ev)
  local seq = redis.call('INCR', kseq)
  ev.seq = seq
  local flat = {}
  for k, v in pairs(ev) do
    if type(v) ~= 'table' then
      flat[#flat + 1] = k
      flat[#flat + 1] = nz(v)
    end
  end
  local sid = redis.call('XADD', kevents, '*', unpack(flat))
  ev.stream_id = sid
  redis.call('PUBLISH', channel, cjson.encode(ev))
  return seq
end

local function ticket_event(etype, t, a, extra)
  local ev = {
    type = etype, ts = now_ms(a), ticket = t.id, number = t.number,
    category = t.category, counter = nz(t.counter), clerk = nz(a.clerk),
    priority = t.priority and '1' or '0', source = nz(t.source),
  }
  if extra then for k, v in pairs(extra) do ev[k] = v end end
  return ev
end

-- The ticket a counter is serving, or nil.
local function current_ticket(kcounter, ktickets)
  local cur = redis.call('HGET', kcounter, 'ticket')
  if not cur or cur == '' then return nil end
  local t = get_ticket(ktickets, cur)
  if not t or t.status ~= 'called' then return nil end
  return t
end

local function clear_counter(kcounter)
  redis.call('HSET', kcounter, 'ticket', '', 'number', '', 'category', '')
end

-- The counter's statistics of the day (kstats: a hash served, no_shows,
-- calls, service_ms_total; a.stats_ttl ms to live). Nothing without kstats.
local function count_stat(kstats, a, field, by)
  if not kstats then return end
  redis.call('HINCRBY', kstats, field, by)
  if a.stats_ttl then redis.call('PEXPIRE', kstats, tonumber(a.stats_ttl)) end
end

-- The service time of a category (mirrors queue_server/domain/eta.py): the
-- last eta.window samples, each clamped to eta.lo..eta.hi of the configured
-- time, in field CAT:recent of the averages hash; their median drawn towards
-- the configured time by eta.prior samples' worth, in field CAT.
local function median(xs)
  local s = {}
  for i, v in ipairs(xs) do s[i] = v end
  table.sort(s)
  local n = #s
  if n % 2 == 1 then return s[(n + 1) / 2] end
  return math.floor((s[n / 2] + s[n / 2 + 1]) / 2)
end

local function record_service(kavg, category, configured, sample, eta)
  local lo, hi = math.floor(configured * eta.lo), math.floor(configured * eta.hi)
  if sample < lo then sample = lo end
  if sample > hi then sample = hi end
  local raw = redis.call('HGET', kavg, category .. ':recent')
  local recent = {}
  if raw then recent = cjson.decode(raw) end
  recent[#recent + 1] = sample
  while #recent > eta.window do table.remove(recent, 1) end
  local n = #recent
  local estimate = math.floor((eta.prior * configured + n * median(recent)) / (eta.prior + n))
  redis.call('HSET', kavg, category .. ':recent', cjson.encode(recent), category, tostring(estimate))
end

-- Finish the ticket a counter is serving. outcome: 'done' or 'no_show'.
-- Records the service time of the ticket's category (record_service) and the
-- counter's statistics of the day; a ticket served (an explicit Done or the
-- implicit done of Next) is remembered on the counter hash (last_done,
-- last_done_at) for the rating tablet: its window stays open when the counter
-- calls or recalls the next citizen, until another ticket is served there.
local function finish_current(kcounter, ktickets, kevents, kseq, kavg, a, outcome, kstats)
  local t = current_ticket(kcounter, ktickets)
  clear_counter(kcounter)
  if not t then return nil end
  local now = now_ms(a)
  t.status = outcome
  t.finished_at = now
  put_ticket(ktickets, t)
  local extra = {}
  if outcome == 'done' then
    local sample = now - (tonumber(t.called_at) or now)
    extra.service_ms = sample
    count_stat(kstats, a, 'served', 1)
    count_stat(kstats, a, 'service_ms_total', sample)
    redis.call('HSET', kcounter, 'last_done', t.id, 'last_done_at', tostring(now))
    local cat = a.categories and a.categories[t.category]
    if cat and a.eta then
      record_service(kavg, t.category, tonumber(cat.service_ms), sample, a.eta)
    end
  else
    count_stat(kstats, a, 'no_shows', 1)
  end
  emit(kevents, kseq, a.channel, ticket_event(outcome, t, a, extra))
  return t
end

-- Mark a waiting ticket as called at this counter and record the call (and
-- count it in the counter's statistics of the day, kstats).
-- `kaway`: the room's away set (store/room.py), which a called ticket leaves.
local function call_ticket(kcounter, ktickets, kevents, kseq, krecent, a, t, etype, kstats, kaway)
  local now = now_ms(a)
  if kaway then redis.call('ZREM', kaway, t.id) end
  local first_call = t.called_at
  t.status = 'called'
  t.counter = tonumber(a.counter)
  t.clerk = a.clerk
  t.called_at = now
  t.calls = (tonumber(t.calls) or 0) + 1
  t.queue = nil
  put_ticket(ktickets, t)
  redis.call('HSET', kcounter, 'ticket', t.id, 'number', t.number, 'category', t.category,
    'called_at', tostring(now), 'clerk', nz(a.clerk))
  if etype == 'call' then count_stat(kstats, a, 'calls', 1) end
  local wait = now - (joined_at(t) or now)
  local ev = ticket_event(etype, t, a, { wait_ms = wait, issued_at = t.issued_at })
  local seq = emit(kevents, kseq, a.channel, ev)
  redis.call('LPUSH', krecent, cjson.encode({
    number = t.number, counter = t.counter, category = t.category, ts = now, type = etype, seq = seq,
  }))
  redis.call('LTRIM', krecent, 0, 19)
  return t
end

-- Make leased print jobs due now; ids nil = every job leased into the future.
-- Returns how many jobs were released.
local function release_jobs(kjobs, kdue, now, ids)
  ids = ids or redis.call('ZRANGEBYSCORE', kdue, '(' .. now, '+inf')
  local n = 0
  for _, id in ipairs(ids) do
    if redis.call('HEXISTS', kjobs, id) == 1 then
      redis.call('ZADD', kdue, now, id)
      n = n + 1
    end
  end
  return n
end

-- Expire `key` at the app's ms time `at` (a TTL from the app's `now`, so that
-- a clock set in a test and Redis's own clock cannot disagree), in 1 s at least.
local function expire_at(key, at, now)
  redis.call('PEXPIRE', key, math.max(1000, math.floor(tonumber(at) - now)))
end

-- Issue a ticket into its queue (issue_ticket.lua, check_in_appointment.lua):
-- the next daily number of the category, ranked by a.rank; queued_at is
-- a.queued_at when given (an appointment: the later of check-in and slot),
-- else now. k: {tickets, seq, numbers, target, events, evseq, priority, normal}.
-- Returns the ticket and the people ahead of it.
local function issue_into(k, a)
  local seq = redis.call('INCR', k.seq)
  redis.call('PEXPIRE', k.seq, a.seq_ttl)
  local number = a.prefix .. string.format('%03d', seq)
  local rank = tonumber(a.rank)
  if rank == now_ms(a) then
    -- a walk-in: keep first-come-first-served strict even when two kiosks press
    -- within the same millisecond (the later one ranks 1 ms later), without
    -- going behind appointments whose slot (rank) is still to come
    while redis.call('ZCOUNT', k.target, rank, rank) > 0 do rank = rank + 1 end
  end
  local t = {
    id = a.id, number = number, category = a.category, original_category = a.category,
    status = 'waiting', issued_at = now_ms(a), queued_at = tonumber(a.queued_at) or now_ms(a), rank_ms = rank,
    priority = a.priority == true,
    source = a.source, day = a.day, calls = 0, queue = a.queue,
  }
  if type(a.extra) == 'table' then for k, v in pairs(a.extra) do t[k] = v end end
  put_ticket(k.tickets, t)
  redis.call('HSET', k.numbers, number, a.id)
  redis.call('PEXPIRE', k.numbers, a.seq_ttl)
  -- people ahead in this category: earlier priority tickets, and for a normal
  -- ticket every priority ticket plus the earlier normal ones. "Earlier" is a
  -- strictly lower rank, as TicketStore.position() counts it (a ticket of equal
  -- rank, only possible with a given rank, is not counted).
  local ahead
  local before = '(' .. string.format('%d', rank)
  if t.priority then
    ahead = redis.call('ZCOUNT', k.priority, '-inf', before)
  else
    ahead = redis.call('ZCARD', k.priority) + redis.call('ZCOUNT', k.normal, '-inf', before)
  end
  redis.call('ZADD', k.target, rank, a.id)
  -- the room's arrivals (store/room.py): this issue, and none older than the window
  local window = tonumber(a.arrivals_ms) or 1800000
  redis.call('ZADD', k.arrivals, now_ms(a), a.id)
  redis.call('ZREMRANGEBYSCORE', k.arrivals, '-inf', '(' .. string.format('%d', now_ms(a) - window))
  redis.call('PEXPIRE', k.arrivals, window)
  emit(k.events, k.evseq, a.channel, ticket_event('issue', t, a, { ahead = ahead, device = nz(a.device) }))
  return t, ahead
end
