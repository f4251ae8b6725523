package nginx_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

// The test runs nginx in the e2e sandbox: its own network namespace, so the
// fixed port below is private.
func TestMain(m *testing.M) { os.Exit(cluster.RunInSandbox(m)) }

const port = "18999"

// luaChecks exercise each shim the way ingress-nginx's balancers use them;
// each location answers "ok" or an error message.
var luaChecks = map[string]string{
	"roundrobin": `
		local rr = require("resty.roundrobin"):new({ ["a:80"] = 3, ["b:80"] = 1 })
		local n = { ["a:80"] = 0, ["b:80"] = 0 }
		for _ = 1, 400 do local id = rr:find(); n[id] = n[id] + 1 end
		if n["a:80"] ~= 300 or n["b:80"] ~= 100 then return "weights: " .. n["a:80"] .. "/" .. n["b:80"] end
		rr:reinit({ ["c:80"] = 1 })
		if rr:find() ~= "c:80" or rr.nodes["c:80"] ~= 1 then return "reinit" end
		return "ok"`,
	"chash": `
		local ch = require("resty.chash"):new({ ["a:80"] = 1, ["b:80"] = 1, ["c:80"] = 1 })
		local seen = {}
		for i = 1, 300 do
			local k = "user-" .. i
			local id = ch:find(k)
			if id ~= ch:find(k) then return "not stable for " .. k end
			seen[id] = (seen[id] or 0) + 1
		end
		for _, id in ipairs({ "a:80", "b:80", "c:80" }) do
			if (seen[id] or 0) < 30 then return "skewed: " .. id .. "=" .. tostring(seen[id]) end
		end
		ch:reinit({ ["z:80"] = 1 })
		if ch:find("x") ~= "z:80" then return "reinit" end
		return "ok"`,
	"lock": `
		local lock = require("resty.lock")
		local a = assert(lock:new("locks", { timeout = 0, exptime = 1 }))
		local b = assert(lock:new("locks", { timeout = 0, exptime = 1 }))
		local _, err = a:lock("k")
		if err then return "first lock: " .. err end
		_, err = b:lock("k")
		if err ~= "timeout" then return "second lock should time out, got " .. tostring(err) end
		if not a:unlock() then return "unlock" end
		_, err = b:lock("k")
		if err then return "lock after unlock: " .. err end
		local _, e = lock:new("missing")
		if not e then return "missing dict accepted" end
		return "ok"`,
	"aliases": `
		if require("resty.cookie") ~= require("nginx.cookie") then return "resty.cookie" end
		if require("resty.dns.resolver") ~= require("nginx.dns.resolver") then return "resty.dns.resolver" end
		return "ok"`,
	"stubs": `
		local httpc = require("resty.http").new()
		local _, err = httpc:parse_uri("http://x/")
		if not err then return "resty.http should fail" end
		if not require("resty.ipmatcher").new({ "10.0.0.0/8" }) then return "ipmatcher.new" end
		local t, terr = require("resty.global_throttle").new("ns", 1, 1, {})
		if t or not terr then return "global_throttle should fail" end
		return "ok"`,
}

func TestLuaShimsInRealNginx(t *testing.T) {
	nginxBin := "/usr/sbin/nginx"
	if _, err := os.Stat(nginxBin); err != nil {
		t.Fatalf("nginx not installed (run e2e/setup/setup.sh): %v", err)
	}
	shims, err := filepath.Abs("lua")
	require.NoError(t, err)
	// Like the cluster's files, nginx's stay out of the host's /tmp.
	runDir := filepath.Join(cluster.CacheDir(), "run")
	require.NoError(t, os.MkdirAll(runDir, 0o755))
	dir, err := os.MkdirTemp(runDir, "lua-shims-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	var locs strings.Builder
	for name, code := range luaChecks {
		fmt.Fprintf(&locs, "    location = /%s { content_by_lua_block { ngx.print((function() %s end)()) } }\n", name, code)
	}
	conf := fmt.Sprintf(`
load_module /usr/lib/nginx/modules/ndk_http_module.so;
load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;
daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log stderr warn;
events {}
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  lua_package_path "%[2]s/?.lua;;";
  lua_shared_dict locks 1m;
  server {
    listen 127.0.0.1:%[3]s;
%[4]s  }
}
`, dir, shims, port, locs.String())
	confPath := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(confPath, []byte(conf), 0o644))
	var logs strings.Builder
	cmd := exec.Command(nginxBin, "-p", dir, "-e", "stderr", "-c", confPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("nginx output:\n%s", logs.String())
		}
	})

	client := &http.Client{Timeout: 5 * time.Second}
	get := func(path string) (string, error) {
		resp, err := client.Get("http://127.0.0.1:" + port + path)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		return fmt.Sprintf("%d %s", resp.StatusCode, b), err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := get("/aliases"); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "nginx did not start: %s", logs.String())
		time.Sleep(50 * time.Millisecond)
	}
	for name := range luaChecks {
		got, err := get("/" + name)
		require.NoError(t, err)
		require.Equal(t, "200 ok", got, "shim check %s", name)
	}
}
