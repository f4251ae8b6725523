-- Debian's lua-nginx-dns installs lua-resty-dns as nginx.dns.resolver;
-- ingress-nginx requires it as resty.dns.resolver.
return require("nginx.dns.resolver")
