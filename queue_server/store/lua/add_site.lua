-- Add a site to the deployment's registry (store/sites.py), once.
-- KEYS[1] event stream  KEYS[2] event sequence  KEYS[3] the registry HASH (Keys.sites)
-- ARGV[1] JSON {now, channel, id, entry (JSON text of the SiteEntry), clerk}
-- Returns JSON {seq}, or {err = "site_exists"}
local a = cjson.decode(ARGV[1])
if redis.call('HSETNX', KEYS[3], a.id, a.entry) == 0 then
  return fail('site_exists')
end
local seq = emit(KEYS[1], KEYS[2], a.channel, { type = 'site_add', ts = now_ms(a), clerk = nz(a.clerk), changed = a.id })
return reply({ seq = seq })
