package traffic

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// VersionHeader is the response header that names the backend version.
const VersionHeader = "X-Version"

// maxBody bounds how much of a response body is read. Bodies are read (not
// just closed) so that the connection can be reused for the next request.
const maxBody = 1 << 20

// newClient returns a client that keeps one idle connection per worker, never
// uses a proxy from the environment (traffic must reach the URL given), and
// does not follow redirects, so that a 3xx from nginx is counted as what it is.
func newClient(concurrency int) *http.Client {
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        concurrency,
		MaxIdleConnsPerHost: concurrency,
		IdleConnTimeout:     30 * time.Second,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// send makes one request and reports its outcome, and whether it counts: a
// request that failed only because ctx ended is not a backend's answer.
func (g *Generator) send(ctx context.Context) (outcome, bool) {
	reqCtx, cancel := context.WithTimeout(ctx, g.cfg.Timeout)
	defer cancel()
	resp, err := g.client.Do(g.template.Clone(reqCtx))
	if err != nil {
		return outcome{}, ctx.Err() == nil
	}
	defer resp.Body.Close()
	// A body cut short still leaves a status and version to count.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	return outcome{status: resp.StatusCode, version: resp.Header.Get(VersionHeader)}, true
}

// newTemplate builds the request that every send clones, so headers, Host and
// cookies are set once and each request still gets its own copy.
func newTemplate(cfg Config) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodGet, cfg.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("URL %q: %w", cfg.URL, err)
	}
	for key, values := range cfg.Header {
		req.Header[key] = append([]string(nil), values...)
	}
	if cfg.Host != "" {
		req.Host = cfg.Host
	}
	for _, cookie := range cfg.Cookies {
		req.AddCookie(cookie)
	}
	return req, nil
}
