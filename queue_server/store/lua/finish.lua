-- Finish the counter's current ticket as served ('done') or absent ('no_show').
-- KEYS[1] counter hash   KEYS[2] tickets hash  KEYS[3] event stream
-- KEYS[4] event sequence KEYS[5] service averages KEYS[6] idempotency key
-- KEYS[7] the counter's statistics of the day (store/keys.py counter_stats)
-- ARGV[1] JSON {now, counter, clerk, channel, use_idem, idem_ttl, outcome, categories, stats_ttl}
-- Returns JSON {ticket} | {err: no_current_ticket}
local a, prev = begin(KEYS[6])
if prev then return prev end
local t = finish_current(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], a, a.outcome, KEYS[7])
if not t then return fail('no_current_ticket') end
return idem_put(KEYS[6], a, reply({ ticket = t.id }))
