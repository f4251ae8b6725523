-- Project-written stub for lua-resty-http (not in Debian). ingress-nginx only
-- uses it in certificate.lua for OCSP stapling, which the e2e setup leaves off
-- (the default). Every call fails cleanly, so a request for it logs an error
-- instead of crashing the worker.
local _M = {}
local mt = { __index = _M }
local unsupported = "resty.http is not available in the ingress-canary e2e nginx"

function _M.new()
  return setmetatable({}, mt)
end

function _M.set_timeout() end
function _M.set_timeouts() end

function _M.parse_uri(_, uri)
  return nil, unsupported .. " (" .. tostring(uri) .. ")"
end

function _M.request_uri()
  return nil, unsupported
end

return _M
