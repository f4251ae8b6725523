package testapp

import (
	"encoding/json"
	"fmt"
	"time"
)

// VersionInfo is one version's address, behaviour and counters, as GET /versions
// lists them. In JSON, Latency is a Go duration string such as "150ms".
type VersionInfo struct {
	Name      string
	Addr      string
	ErrorRate float64
	Latency   time.Duration
	// Requests counts answered requests, health checks excluded.
	Requests int64
	// Errors counts the injected 500s among Requests.
	Errors int64
}

// versionInfoJSON is the wire form. It exists because a time.Duration would
// otherwise be written as nanoseconds, which people reading the demo cannot parse.
type versionInfoJSON struct {
	Name      string  `json:"name"`
	Addr      string  `json:"addr"`
	ErrorRate float64 `json:"errorRate"`
	Latency   string  `json:"latency"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
}

// MarshalJSON writes the wire form.
func (i VersionInfo) MarshalJSON() ([]byte, error) {
	return json.Marshal(versionInfoJSON{
		Name: i.Name, Addr: i.Addr, ErrorRate: i.ErrorRate,
		Latency: i.Latency.String(), Requests: i.Requests, Errors: i.Errors,
	})
}

// UnmarshalJSON reads the wire form.
func (i *VersionInfo) UnmarshalJSON(data []byte) error {
	var w versionInfoJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	latency, err := time.ParseDuration(w.Latency)
	if err != nil {
		return fmt.Errorf("version %q: latency %q: %w", w.Name, w.Latency, err)
	}
	*i = VersionInfo{
		Name: w.Name, Addr: w.Addr, ErrorRate: w.ErrorRate,
		Latency: latency, Requests: w.Requests, Errors: w.Errors,
	}
	return nil
}
