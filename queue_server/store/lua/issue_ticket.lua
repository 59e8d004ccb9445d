-- Issue a ticket: next daily number of the category, enqueued by rank time
-- (`rank`: the issue time for a walk-in, e.g. the slot for an appointment);
-- the ticket stores its rank as rank_ms and the issue time as queued_at.
-- KEYS[1] tickets hash         KEYS[2] daily sequence of the category
-- KEYS[3] daily number->id map KEYS[4] target queue (q:CAT or qp:CAT)
-- KEYS[5] event stream         KEYS[6] event sequence
-- KEYS[7] idempotency key      KEYS[8] priority queue of the category
-- KEYS[9] normal queue of the category
-- ARGV[1] JSON {id, category, prefix, priority, source, day, now, rank,
--               queue, channel, clerk (staff user or ''), device (kiosk id or ''),
--               use_idem, idem_ttl, seq_ttl, extra}
-- Returns JSON {ticket, ahead, stored} | {err}; `stored` is the ticket's
-- record as it is now (also for a replayed Idempotency-Key), so the caller
-- needs no second round trip to read it.
local a, prev = begin(KEYS[7])
if prev then return replay(KEYS[1], prev) end

local seq = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], a.seq_ttl)
local number = a.prefix .. string.format('%03d', seq)
local rank = tonumber(a.rank)
if rank == now_ms(a) then
  -- a walk-in: keep first-come-first-served strict even when two kiosks press
  -- within the same millisecond (the later one ranks 1 ms later), without
  -- going behind appointments whose slot (rank) is still to come
  while redis.call('ZCOUNT', KEYS[4], rank, rank) > 0 do rank = rank + 1 end
end
local t = {
  id = a.id, number = number, category = a.category, original_category = a.category,
  status = 'waiting', issued_at = now_ms(a), queued_at = now_ms(a), rank_ms = rank,
  priority = a.priority == true,
  source = a.source, day = a.day, calls = 0, queue = a.queue,
}
if type(a.extra) == 'table' then for k, v in pairs(a.extra) do t[k] = v end end
put_ticket(KEYS[1], t)
redis.call('HSET', KEYS[3], number, a.id)
redis.call('PEXPIRE', KEYS[3], a.seq_ttl)
-- people ahead in this category: earlier priority tickets, and for a normal
-- ticket every priority ticket plus the earlier normal ones. "Earlier" is a
-- strictly lower rank, as TicketStore.position() counts it (a ticket of equal
-- rank, only possible with a given rank, is not counted).
local ahead
local before = '(' .. string.format('%d', rank)
if t.priority then
  ahead = redis.call('ZCOUNT', KEYS[8], '-inf', before)
else
  ahead = redis.call('ZCARD', KEYS[8]) + redis.call('ZCOUNT', KEYS[9], '-inf', before)
end
redis.call('ZADD', KEYS[4], rank, a.id)
emit(KEYS[5], KEYS[6], a.channel, ticket_event('issue', t, a, { ahead = ahead, device = nz(a.device) }))
return answer(KEYS[7], a, KEYS[1], { ticket = a.id, ahead = ahead })
