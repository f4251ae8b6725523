-- Debian's lua-nginx-cookie installs lua-resty-cookie as nginx.cookie;
-- ingress-nginx requires it as resty.cookie.
return require("nginx.cookie")
