package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/traffic"
)

// headerFlags collects repeated --header K:V.
type headerFlags http.Header

func (f headerFlags) String() string {
	return fmt.Sprint(http.Header(f))
}

func (f headerFlags) Set(value string) error {
	key, val, ok := strings.Cut(value, ":")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return fmt.Errorf("%q: want NAME:VALUE, e.g. X-Canary:always", value)
	}
	if http.CanonicalHeaderKey(key) == "Host" {
		// net/http ignores a Host header field; the request's Host must be set instead.
		return fmt.Errorf("%q: use --host to set the Host header", value)
	}
	http.Header(f).Add(key, strings.TrimSpace(val))
	return nil
}

// cookieFlags collects repeated --cookie k=v.
type cookieFlags []*http.Cookie

func (f *cookieFlags) String() string {
	parts := make([]string, 0, len(*f))
	for _, c := range *f {
		parts = append(parts, c.String())
	}
	return strings.Join(parts, "; ")
}

func (f *cookieFlags) Set(value string) error {
	name, val, ok := strings.Cut(value, "=")
	cookie := &http.Cookie{Name: name, Value: val}
	if !ok || cookie.Valid() != nil {
		return fmt.Errorf("%q: want NAME=VALUE, e.g. canary=always", value)
	}
	*f = append(*f, cookie)
	return nil
}

// parseFlags turns the command line into a Config; traffic.New validates it.
// The defaults are bounds too, so the tool never runs unbounded.
func parseFlags(args []string) (traffic.Config, error) {
	cfg := traffic.Config{Header: http.Header{}}
	var cookies cookieFlags
	fs := flag.NewFlagSet("traffic", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // main reports the error once
	fs.StringVar(&cfg.URL, "url", "", "where to send requests, e.g. http://127.0.0.1:18080/ (required)")
	fs.StringVar(&cfg.Host, "host", "", "Host header, e.g. demo.local")
	fs.Var(headerFlags(cfg.Header), "header", "request header NAME:VALUE, e.g. X-Canary:always; repeat for more")
	fs.Var(&cookies, "cookie", "request cookie NAME=VALUE, e.g. canary=always; repeat for more")
	fs.Float64Var(&cfg.RPS, "rps", 20, "requests per second")
	fs.IntVar(&cfg.Concurrency, "concurrency", 4, "requests in flight at most")
	fs.IntVar(&cfg.MaxRequests, "max-requests", 600, "stop after this many requests")
	fs.DurationVar(&cfg.MaxDuration, "max-duration", 30*time.Second, "stop after this long")
	fs.DurationVar(&cfg.Timeout, "timeout", traffic.DefaultTimeout, "timeout of each request")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stderr)
			fs.PrintDefaults()
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg.Cookies = cookies
	return cfg, nil
}
