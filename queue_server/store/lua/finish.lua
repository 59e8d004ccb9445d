-- Finish the counter's current ticket as served ('done') or absent ('no_show').
-- KEYS[1] counter hash   KEYS[2] tickets hash  KEYS[3] event stream
-- KEYS[4] event sequence KEYS[5] service averages KEYS[6] idempotency key
-- KEYS[7] the counter's statistics of the day (store/keys.py counter_stats)
-- KEYS[8..] the day's no-show sets (store/keys.py no_shows), one per category
-- ARGV[1] JSON {now, counter, clerk, channel, use_idem, idem_ttl, outcome, categories, stats_ttl,
--               noshow_categories: [category code aligned with KEYS[8..]]}
-- Returns JSON {ticket, replayed?} | {err: no_current_ticket}
local a, prev = begin(KEYS[6])
if prev then return replay(KEYS[2], prev) end
local t = finish_current(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], a, a.outcome, KEYS[7])
if not t then return fail('no_current_ticket') end
if a.outcome == 'no_show' then
  for i, code in ipairs(a.noshow_categories or {}) do
    if code == t.category then
      redis.call('ZADD', KEYS[7 + i], t.finished_at, t.id)
      redis.call('PEXPIRE', KEYS[7 + i], tonumber(a.stats_ttl))
    end
  end
end
return answer(KEYS[6], a, KEYS[2], { ticket = t.id })
