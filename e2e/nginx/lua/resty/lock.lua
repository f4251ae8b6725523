-- Project-written stand-in for resty.lock (not in Debian). ingress-nginx's EWMA
-- balancer creates one with {timeout = 0, exptime = 0.1}: a non-blocking lock
-- on a shared dict. This implements that case with shdict:add, and waits (with
-- ngx.sleep, where the phase allows it) only when a timeout > 0 is asked for.
local _M = {}
local mt = { __index = _M }

function _M.new(_, dict_name, opts)
  local dict = ngx.shared[dict_name]
  if not dict then
    return nil, "dictionary not found: " .. tostring(dict_name)
  end
  opts = opts or {}
  return setmetatable({
    dict = dict,
    exptime = opts.exptime or 30,
    timeout = opts.timeout or 5,
    step = opts.step or 0.001,
    key = nil,
  }, mt)
end

function _M.lock(self, key)
  if self.key then
    return nil, "locked"
  end
  local waited = 0
  while true do
    local ok, err = self.dict:add(key, true, self.exptime)
    if ok then
      self.key = key
      return waited
    end
    if err ~= "exists" then
      return nil, err
    end
    if waited >= self.timeout then
      return nil, "timeout"
    end
    ngx.sleep(self.step)
    waited = waited + self.step
  end
end

function _M.unlock(self)
  if not self.key then
    return nil, "unlocked"
  end
  local ok, err = self.dict:delete(self.key)
  self.key = nil
  if err then
    return nil, err
  end
  return 1
end

function _M.expire(self, time)
  if not self.key then
    return nil, "unlocked"
  end
  return self.dict:set(self.key, true, time or self.exptime)
end

return _M
