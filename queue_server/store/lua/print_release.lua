-- Make leased or backed-off jobs due now: the agent that held them went
-- away, or the printer came back online.
-- KEYS[1] print jobs hash  KEYS[2] print due zset
-- ARGV[1] JSON {now, jobs: [id...] | all: true}
-- Returns JSON {released: n}
local a = cjson.decode(ARGV[1])
local ids = nil
if not a.all then ids = a.jobs or {} end
return reply({ released = release_jobs(KEYS[1], KEYS[2], now_ms(a), ids) })
