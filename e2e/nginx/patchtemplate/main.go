// Command patchtemplate adapts ingress-nginx's nginx.tmpl to Debian bookworm's
// nginx 1.22, in place:
//
//   - Debian builds the Lua, NDK, headers-more and stream modules as dynamic
//     modules (the ingress-nginx image links them in), so it adds load_module
//     lines for them right after the pid directive (they must precede events{}).
//   - The stream {} block needs ngx_stream_lua_module, which Debian lacks. It is
//     replaced by a Lua-free stream server on the controller's --stream-port
//     that forwards the controller's TCP/UDP configuration push to a sink the
//     harness runs (see e2e/cluster). TCP/UDP services are thus unsupported.
//   - The template moves nginx's client-body, FastCGI and proxy temp dirs under
//     /tmp/nginx but not the SCGI and uWSGI ones, which Debian's nginx would
//     then create under /var/lib/nginx on the host; it moves those two as well.
//
// usage: patchtemplate [-sink-port N] path/to/nginx.tmpl
//
// It refuses to write a half-patched file: every anchor must be found exactly
// once, and an already patched template is left as it is.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// marker is written into the patched template so a second run is a no-op.
const marker = "# patched by ingress-canary e2e/nginx/patchtemplate"

// debianModules are the dynamic modules of the Debian packages listed in
// e2e/setup/setup.sh, in load order (NDK before Lua).
var debianModules = []string{
	"/usr/lib/nginx/modules/ndk_http_module.so",
	"/usr/lib/nginx/modules/ngx_http_lua_module.so",
	"/usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so",
	"/usr/lib/nginx/modules/ngx_stream_module.so",
}

func main() {
	sinkPort := flag.Int("sink-port", 18248, "port on 127.0.0.1 where the harness discards stream configuration pushes")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: patchtemplate [-sink-port N] nginx.tmpl")
		os.Exit(2)
	}
	path := flag.Arg(0)
	in, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	out, err := patch(string(in), *sinkPort)
	if err != nil {
		fail(fmt.Errorf("%s: %w", path, err))
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "patchtemplate:", err)
	os.Exit(1)
}

func patch(s string, sinkPort int) (string, error) {
	if strings.Contains(s, marker) {
		return s, nil
	}
	const pidLine = "pid {{ .PID }};\n"
	if strings.Count(s, pidLine) != 1 {
		return "", errors.New("pid directive not found exactly once")
	}
	var mods strings.Builder
	mods.WriteString(pidLine + "\n" + marker + ": Debian's dynamic modules\n")
	for _, m := range debianModules {
		fmt.Fprintf(&mods, "load_module %s;\n", m)
	}
	s = strings.Replace(s, pidLine, mods.String(), 1)

	const proxyTemp = "    proxy_temp_path                 /tmp/nginx/proxy-temp;\n"
	if strings.Count(s, proxyTemp) != 1 {
		return "", errors.New("proxy_temp_path directive not found exactly once")
	}
	s = strings.Replace(s, proxyTemp, proxyTemp+
		"    scgi_temp_path                  /tmp/nginx/scgi-temp;\n"+
		"    uwsgi_temp_path                 /tmp/nginx/uwsgi-temp;\n", 1)

	start, end, err := topLevelBlock(s, "stream {")
	if err != nil {
		return "", err
	}
	stream := fmt.Sprintf(`%s: Lua-free stream block (Debian has no stream-lua)
stream {
    server {
        listen 127.0.0.1:{{ .StreamPort }};
        proxy_pass 127.0.0.1:%d;
    }
}
`, marker, sinkPort)
	return s[:start] + stream + s[end:], nil
}

// topLevelBlock finds the block that starts with the line `open` at column 0
// and ends with the next line that is exactly "}" (the template indents
// everything inside top-level blocks), returning the byte range including the
// closing line.
func topLevelBlock(s, open string) (int, int, error) {
	head := "\n" + open + "\n"
	if strings.Count(s, head) != 1 {
		return 0, 0, fmt.Errorf("%q not found exactly once at the start of a line", open)
	}
	start := strings.Index(s, head) + 1
	rel := strings.Index(s[start:], "\n}\n")
	if rel < 0 {
		return 0, 0, fmt.Errorf("end of %q block not found", open)
	}
	return start, start + rel + len("\n}\n"), nil
}
