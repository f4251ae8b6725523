package cluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"time"
)

// waitReady polls check every 50 ms until it succeeds, the component exits,
// timeout passes or ctx ends. The last check error explains a timeout.
func waitReady(ctx context.Context, p *component, timeout time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if p != nil && p.exited() {
			return p.exitError()
		}
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		last = check(cctx)
		ccancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			name := "check"
			logInfo := ""
			if p != nil {
				name, logInfo = p.name, fmt.Sprintf("; log %s:\n%s", p.logPath, tail(p.logPath, 15))
			}
			return fmt.Errorf("%s not ready after %s: %v%s", name, timeout, last, logInfo)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// probeClient is for readiness probes on loopback; the apiserver's and the
// controller-manager's serving certificates are not verified here (the
// kubeconfig verifies the apiserver's against the cluster CA).
var probeClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true},
}

// httpStatus GETs url (with an optional bearer token) and returns the status
// code, draining a bounded part of the body.
func httpStatus(ctx context.Context, url, token string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// expectStatus returns a check that wants url to answer want.
func expectStatus(url, token string, want int) func(context.Context) error {
	return func(ctx context.Context) error {
		code, err := httpStatus(ctx, url, token)
		if err != nil {
			return err
		}
		if code != want {
			return fmt.Errorf("GET %s: status %d, want %d", url, code, want)
		}
		return nil
	}
}
