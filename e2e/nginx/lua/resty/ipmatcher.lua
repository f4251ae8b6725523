-- Project-written stub for lua-resty-ipmatcher (not in Debian). ingress-nginx
-- only uses it for global rate limiting (global-rate-limit-* annotations),
-- which needs memcached and is unsupported in the e2e setup. new() succeeds so
-- that module loading works; match() never matches.
local _M = {}
local mt = { __index = _M }

function _M.new(cidrs)
  return setmetatable({ cidrs = cidrs or {} }, mt)
end

function _M.match()
  return false
end

return _M
