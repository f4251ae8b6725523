// Package nginx holds what adapts ingress-nginx to Debian's nginx for the e2e
// cluster: Lua shims for the OpenResty libraries Debian does not package
// (lua/resty/*.lua, copied into the /etc/nginx payload by e2e/setup/setup.sh)
// and the template patcher (patchtemplate). Its test runs a real nginx with
// those shims, because `nginx -t` does not execute Lua.
package nginx
