package prom

import (
	"fmt"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// APIFor returns client_golang's Prometheus API client for the server at url,
// e.g. "http://prometheus.monitoring:9090", with client_golang's default transport.
func APIFor(url string) (v1.API, error) {
	if url == "" {
		return nil, fmt.Errorf("prometheus url is empty")
	}
	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus client for %q: %w", url, err)
	}
	return v1.NewAPI(client), nil
}
