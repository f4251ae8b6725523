-- Project-written stand-in for lua-resty-balancer's resty.roundrobin, which
-- Debian does not package. Same API as ingress-nginx uses it (balancer/resty.lua,
-- balancer/round_robin.lua): new(nodes), find(), reinit(nodes), .nodes.
-- nodes maps "addr:port" to a positive weight. Smooth weighted round robin
-- (the nginx algorithm), so weights are honoured without bursts.
local _M = {}
local mt = { __index = _M }

local function build(nodes)
  local list = {}
  for id, weight in pairs(nodes) do
    list[#list + 1] = { id = id, weight = tonumber(weight) or 1, current = 0 }
  end
  -- deterministic order, so every worker walks the nodes alike
  table.sort(list, function(a, b) return a.id < b.id end)
  return list
end

function _M.new(_, nodes)
  return setmetatable({ nodes = nodes, list = build(nodes) }, mt)
end

function _M.reinit(self, nodes)
  self.nodes = nodes
  self.list = build(nodes)
end

function _M.find(self)
  local list = self.list
  if #list == 0 then
    return nil
  end
  local total, best = 0, nil
  for _, n in ipairs(list) do
    n.current = n.current + n.weight
    total = total + n.weight
    if best == nil or n.current > best.current then
      best = n
    end
  end
  best.current = best.current - total
  return best.id
end

_M.next = _M.find

return _M
