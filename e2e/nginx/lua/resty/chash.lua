-- Project-written stand-in for lua-resty-balancer's resty.chash (which needs a
-- C library Debian does not package). Same API: new(nodes), find(key),
-- reinit(nodes), .nodes. It is a consistent-hash ring over CRC32 with virtual
-- points per weight unit; only upstream-hash-by and cookie affinity use it, and
-- the e2e tests need neither to be bit-identical to upstream.
local crc32 = ngx.crc32_long
local _M = {}
local mt = { __index = _M }
local POINTS_PER_WEIGHT = 40

local function build(nodes)
  local ring = {}
  for id, weight in pairs(nodes) do
    local n = (tonumber(weight) or 1) * POINTS_PER_WEIGHT
    for i = 1, n do
      ring[#ring + 1] = { hash = crc32(id .. "#" .. i), id = id }
    end
  end
  table.sort(ring, function(a, b)
    if a.hash == b.hash then return a.id < b.id end
    return a.hash < b.hash
  end)
  return ring
end

function _M.new(_, nodes)
  return setmetatable({ nodes = nodes, ring = build(nodes) }, mt)
end

function _M.reinit(self, nodes)
  self.nodes = nodes
  self.ring = build(nodes)
end

-- find returns the first ring point at or after the key's hash (binary search).
function _M.find(self, key)
  local ring = self.ring
  if #ring == 0 then
    return nil
  end
  local h = crc32(tostring(key))
  local lo, hi = 1, #ring
  if h > ring[hi].hash then
    return ring[1].id, 1
  end
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if ring[mid].hash < h then lo = mid + 1 else hi = mid end
  end
  return ring[lo].id, lo
end

-- next returns the node after index idx on the ring (used for retries).
function _M.next(self, idx)
  local ring = self.ring
  if #ring == 0 then
    return nil
  end
  local i = (idx or 0) % #ring + 1
  return ring[i].id, i
end

return _M
