package testapp

import (
	"net/http"
	"sync"
	"time"
)

// VersionHeader is the response header that names the version that answered.
const VersionHeader = "X-Version"

// version is one served application version: its listener's HTTP server and
// the behaviour and counters that its handler reads and updates.
type version struct {
	name   string
	listen string // the address asked for, e.g. "127.0.0.1:0"
	addr   string // the bound address, so ":0" reads as the real port
	server *http.Server

	mu       sync.Mutex
	ratePPM  int64
	latency  time.Duration
	requests int64
	errors   int64
}

// ServeHTTP answers every path and method except /healthz as the version,
// after the configured latency and with the configured share of 500s.
func (v *version) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(VersionHeader, v.name)
	if r.URL.Path == "/healthz" {
		// Health checks stay fast and green so that a probe never hides or
		// causes the behaviour under test, and they are not counted.
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
		return
	}
	fail, latency := v.nextRequest()
	if !sleep(r, latency) {
		return
	}
	if fail {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(v.name + " injected error\n"))
		return
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(v.name + "\n"))
}

// nextRequest counts a request and decides its fate under the lock, so that
// concurrent requests still get consecutive numbers and an exact error count.
func (v *version) nextRequest() (fail bool, latency time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.requests++
	fail = failsAt(v.requests, v.ratePPM)
	if fail {
		v.errors++
	}
	return fail, v.latency
}

// sleep waits for latency unless the client goes away first; it reports
// whether the request should still be answered.
func sleep(r *http.Request, latency time.Duration) bool {
	if latency <= 0 {
		return true
	}
	timer := time.NewTimer(latency)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// setErrorRate and setLatency change one part of the behaviour each, because
// the admin API lets a caller change either alone.
func (v *version) setErrorRate(rate float64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ratePPM = toPPM(rate)
}

func (v *version) setLatency(latency time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.latency = latency
}

func (v *version) info() VersionInfo {
	v.mu.Lock()
	defer v.mu.Unlock()
	return VersionInfo{
		Name:      v.name,
		Addr:      v.addr,
		ErrorRate: float64(v.ratePPM) / ppmScale,
		Latency:   v.latency,
		Requests:  v.requests,
		Errors:    v.errors,
	}
}
