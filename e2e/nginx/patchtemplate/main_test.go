package main

import (
	"strings"
	"testing"
)

const tmpl = `# head
pid {{ .PID }};

events {
    worker_connections 1024;
}

http {
    proxy_temp_path                 /tmp/nginx/proxy-temp;
    server {
    }
}

stream {
    lua_package_path "/etc/nginx/lua/?.lua;;";
    init_by_lua_block {
        require("tcp_udp_configuration")
    }
    server {
        listen 127.0.0.1:{{ .StreamPort }};
    }
}

{{ define "CUSTOM_ERRORS" }}
{{ end }}
`

func TestPatch(t *testing.T) {
	out, err := patch(tmpl, 18248)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"pid {{ .PID }};\n\n" + marker + ": Debian's dynamic modules\nload_module /usr/lib/nginx/modules/ndk_http_module.so;\n",
		"load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n",
		"proxy_pass 127.0.0.1:18248;",
		"proxy-temp;\n    scgi_temp_path                  /tmp/nginx/scgi-temp;\n    uwsgi_temp_path                 /tmp/nginx/uwsgi-temp;\n    server {\n    }\n}\n",
		"{{ define \"CUSTOM_ERRORS\" }}\n{{ end }}\n", // what follows stream{} survives
	} {
		if !strings.Contains(out, want) {
			t.Errorf("patched template lacks %q:\n%s", want, out)
		}
	}
	for _, gone := range []string{"lua_package_path", "init_by_lua_block", "tcp_udp_configuration"} {
		if strings.Contains(out, gone) {
			t.Errorf("patched template still has %q", gone)
		}
	}
	if strings.Index(out, "load_module") > strings.Index(out, "events {") {
		t.Error("load_module must precede events{}")
	}
	again, err := patch(out, 18248)
	if err != nil || again != out {
		t.Errorf("second patch changed the template (err %v)", err)
	}
}

func TestPatchRefusesUnknownTemplates(t *testing.T) {
	for name, in := range map[string]string{
		"no pid":       strings.Replace(tmpl, "pid {{ .PID }};", "", 1),
		"no temp path": strings.Replace(tmpl, "proxy_temp_path", "proxy_temp", 1),
		"no stream":    strings.Replace(tmpl, "stream {", "streams {", 1),
		"two streams":  tmpl + "\nstream {\n}\n",
		"stream unend": strings.SplitAfter(tmpl, "stream {\n")[0] + "    x;\n",
	} {
		if _, err := patch(in, 1); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}
