-- Project-written stub for lua-resty-global-throttle (not in Debian). Global
-- rate limiting is unsupported in the e2e setup; new() reports that, and
-- ingress-nginx's global_throttle.lua then fails open (no throttling).
local _M = {}

function _M.new()
  return nil, "resty.global_throttle is not available in the ingress-canary e2e nginx"
end

return _M
