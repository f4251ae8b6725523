package testapp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxAdminReply bounds how much of an admin reply is read; replies are tiny.
const maxAdminReply = 1 << 20

// AdminClient talks to a Server's admin API, e.g. from an e2e test that runs
// testapp as a separate process.
type AdminClient struct {
	// BaseURL is the admin address with scheme, e.g. http://127.0.0.1:9000.
	BaseURL string
	// HTTP is the client to use; nil means http.DefaultClient.
	HTTP *http.Client
}

// SetBehavior sets both the error ratio and the added latency of a version.
func (c AdminClient) SetBehavior(ctx context.Context, name string, errorRate float64, latency time.Duration) error {
	query := url.Values{
		paramErrorRate: {strconv.FormatFloat(errorRate, 'g', -1, 64)},
		paramLatency:   {latency.String()},
	}
	return c.post(ctx, name, query)
}

// Serve asks the server to start serving version name on addr.
func (c AdminClient) Serve(ctx context.Context, name, addr string) error {
	return c.post(ctx, name, url.Values{paramListen: {addr}})
}

// Versions lists the served versions with their behaviour and counters.
func (c AdminClient) Versions(ctx context.Context) ([]VersionInfo, error) {
	var infos []VersionInfo
	body, err := c.do(ctx, http.MethodGet, "/versions", nil)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, &infos); err != nil {
		return nil, fmt.Errorf("GET /versions: decode: %w", err)
	}
	return infos, nil
}

func (c AdminClient) post(ctx context.Context, name string, query url.Values) error {
	_, err := c.do(ctx, http.MethodPost, "/versions/"+url.PathEscape(name), query)
	return err
}

// do sends one request and returns the body of a 2xx reply; any other status
// becomes an error carrying the server's message, which names the bad value.
func (c AdminClient) do(ctx context.Context, method, path string, query url.Values) ([]byte, error) {
	target := strings.TrimSuffix(c.BaseURL, "/") + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	resp, err := c.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminReply))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read reply: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

func (c AdminClient) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}
