-- Check a booking in at the kiosk. Within its window (early_ms before to
-- late_ms after the slot) it issues a ticket of the booking's category,
-- source 'appointment', ranked by the slot's start, that has waited from
-- the later of check-in and the slot (queued_at); too early is refused with
-- when the window opens; too late issues a walk-in ticket (ranked now,
-- flagged late) and the booking counts as late, not as a no-show.
-- KEYS[1] booking record hash   KEYS[2] tickets hash
-- KEYS[3] daily sequence of the category   KEYS[4] daily number->id map
-- KEYS[5] the category's normal queue (the target)
-- KEYS[6] event stream          KEYS[7] event sequence
-- KEYS[8] idempotency key       KEYS[9] the category's priority queue
-- KEYS[10] the room's arrivals (zset)
-- ARGV[1] JSON {appointment, early_ms, late_ms, id (the new ticket's), category, prefix,
--               day, now, queue, channel, clerk, device, use_idem, idem_ttl, seq_ttl, arrivals_ms}
-- Returns JSON {ticket, ahead, late, appointment} |
--   {err: appointment_not_found|appointment_not_booked|already_checked_in|too_early|conflict, opens?, ticket?}
local a, prev = begin(KEYS[8])
if prev then return prev end
local now = now_ms(a)
local rec = redis.call('HGETALL', KEYS[1])
if #rec == 0 then return fail('appointment_not_found') end
local r = {}
for i = 1, #rec, 2 do r[rec[i]] = rec[i + 1] end
if r.status == 'checked_in' or r.status == 'late' then return fail('already_checked_in', { ticket = r.ticket }) end
if r.status ~= 'booked' then return fail('appointment_not_booked', { status = r.status }) end
if r.category ~= a.category then return fail('conflict', { detail = 'category' }) end
local start = tonumber(r.start)
local opens = start - tonumber(a.early_ms)
if now < opens then return fail('too_early', { opens = opens }) end
local late = now > start + tonumber(a.late_ms)

a.priority = false
a.extra = { appointment = r.id, slot_start = start }
if late then
  a.source = 'walk_in'
  a.rank = now
  a.extra.late = true
else
  a.source = 'appointment'
  a.rank = start
  a.queued_at = math.max(now, start)
end
local t, ahead = issue_into({
  tickets = KEYS[2], seq = KEYS[3], numbers = KEYS[4], target = KEYS[5],
  events = KEYS[6], evseq = KEYS[7], priority = KEYS[9], normal = KEYS[5], arrivals = KEYS[10],
}, a)
redis.call('HSET', KEYS[1], 'status', late and 'late' or 'checked_in', 'ticket', t.id, 'checked_in_at', now)
emit(KEYS[6], KEYS[7], a.channel, {
  type = 'appointment_checkin', ts = now, appointment = r.id, category = r.category, start = start,
  ticket = t.id, late = late and '1' or '0',
})
return idem_put(KEYS[8], a, reply({ ticket = t.id, ahead = ahead, late = late, appointment = r.id }))
