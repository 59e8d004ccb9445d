-- Record how far the event stream is archived, then trim it to its window.
-- KEYS[1] events stream, KEYS[2] archive checkpoint (a stream id)
-- ARGV[1] JSON {last: stream id archived up to (inclusive) or "", cutoff_ms: oldest ms the window keeps}
-- The checkpoint only moves forward. The trim (XTRIM MINID) never removes an
-- entry newer than the checkpoint: what is not archived stays.
-- Returns JSON {checkpoint, trimmed}
local a = cjson.decode(ARGV[1])

local function parse(id)
  local ms, seq = string.match(id or '', '^(%d+)-(%d+)$')
  if not ms then return nil end
  return tonumber(ms), tonumber(seq)
end

local function less(x, y)
  local xm, xs = parse(x)
  local ym, ys = parse(y)
  if xm ~= ym then return xm < ym end
  return xs < ys
end

local cp = redis.call('GET', KEYS[2]) or ''
if a.last ~= '' and parse(a.last) and (cp == '' or less(cp, a.last)) then
  redis.call('SET', KEYS[2], a.last)
  cp = a.last
end
local trimmed = 0
if cp ~= '' then
  local minid = tostring(math.floor(tonumber(a.cutoff_ms))) .. '-0'
  if less(cp, minid) then minid = cp end
  trimmed = redis.call('XTRIM', KEYS[1], 'MINID', minid)
end
return reply({ checkpoint = cp, trimmed = trimmed })
