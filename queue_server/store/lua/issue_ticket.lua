-- Issue a ticket: next daily number of the category, enqueued by rank time
-- (`rank`: the issue time for a walk-in, e.g. the slot for an appointment);
-- the ticket stores its rank as rank_ms and the issue time as queued_at.
-- KEYS[1] tickets hash         KEYS[2] daily sequence of the category
-- KEYS[3] daily number->id map KEYS[4] target queue (q:CAT or qp:CAT)
-- KEYS[5] event stream         KEYS[6] event sequence
-- KEYS[7] idempotency key      KEYS[8] priority queue of the category
-- KEYS[9] normal queue of the category  KEYS[10] the room's arrivals (zset)
-- KEYS[11] the kiosk's rate-limit bucket (counted first, replays too, when
--          ARGV's rate_limit > 0: over it, nothing is issued)
-- ARGV[1] JSON {id, category, prefix, priority, source, day, now, rank,
--               queue, channel, clerk (staff user or ''), device (kiosk id or ''),
--               use_idem, idem_ttl, seq_ttl, extra, arrivals_ms, rate_limit, rate_window_ms}
-- Returns JSON {ticket, ahead, stored} | {err} ({err: rate_limited, ttl}); `stored` is the ticket's
-- record as it is now (also for a replayed Idempotency-Key), so the caller
-- needs no second round trip to read it.
local a, prev = begin(KEYS[7])
local limit = tonumber(a.rate_limit) or 0
if limit > 0 then
  local n, ttl = rate_hit(KEYS[11], a.rate_window_ms)
  if n > limit then return fail('rate_limited', { ttl = ttl }) end
end
if prev then return replay(KEYS[1], prev) end

local _, ahead = issue_into({
  tickets = KEYS[1], seq = KEYS[2], numbers = KEYS[3], target = KEYS[4],
  events = KEYS[5], evseq = KEYS[6], priority = KEYS[8], normal = KEYS[9], arrivals = KEYS[10],
}, a)
return answer(KEYS[7], a, KEYS[1], { ticket = a.id, ahead = ahead })
