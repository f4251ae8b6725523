package testapp

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEachVersionAnswersWithItsName(t *testing.T) {
	_, _, urls := startVersions(t, "web-v1", "web-v2")
	for name, base := range urls {
		for _, tc := range []struct{ method, path string }{
			{http.MethodGet, "/"},
			{http.MethodPost, "/api/orders?id=3"},
			{http.MethodDelete, "/any/path"},
		} {
			got := send(t, tc.method, base+tc.path)
			assert.Equal(t, reply{status: 200, version: name, body: name + "\n"}, got, "%s %s on %s", tc.method, tc.path, name)
		}
	}
}

func TestHealthzIsNeitherFailedNorCounted(t *testing.T) {
	app, _, urls := startVersions(t, "web-v1")
	require.NoError(t, app.SetBehavior("web-v1", Behavior{ErrorRate: 1}))
	for range 3 {
		assert.Equal(t, 200, send(t, http.MethodGet, urls["web-v1"]+"/healthz").status)
	}
	assert.Equal(t, int64(0), app.Versions()[0].Requests)
}

func TestErrorRateIsExactOver100Requests(t *testing.T) {
	// want is written out: computing it as int(rate*100) gives 28 for 0.29.
	for rate, want := range map[float64]int{0.25: 25, 0.3: 30, 0.29: 29} {
		app, _, urls := startVersions(t, "web-v2")
		require.NoError(t, app.SetErrorRate("web-v2", rate))
		statuses := sendConcurrently(t, urls["web-v2"], 100, 4)
		assert.Equal(t, map[int]int{200: 100 - want, 500: want}, statuses, "rate %v", rate)
		info := app.Versions()[0]
		assert.Equal(t, int64(100), info.Requests)
		assert.Equal(t, int64(want), info.Errors)
	}
}

// sendConcurrently sends total requests from workers goroutines and counts
// statuses; concurrency proves the count stays exact under parallel requests.
func sendConcurrently(t *testing.T, url string, total, workers int) map[int]int {
	t.Helper()
	var mu sync.Mutex
	statuses := map[int]int{}
	jobs := make(chan struct{}, total)
	for range total {
		jobs <- struct{}{}
	}
	close(jobs)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range jobs {
				resp, err := http.Get(url)
				if !assert.NoError(t, err) {
					return
				}
				_ = resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return statuses
}

func TestInjectedErrorStillNamesTheVersion(t *testing.T) {
	app, _, urls := startVersions(t, "web-v2")
	require.NoError(t, app.SetErrorRate("web-v2", 1))
	got := send(t, http.MethodGet, urls["web-v2"])
	assert.Equal(t, 500, got.status)
	assert.Equal(t, "web-v2", got.version)
}

func TestLatencyIsApplied(t *testing.T) {
	app, _, urls := startVersions(t, "web-v1")
	fast := timed(t, urls["web-v1"])
	require.NoError(t, app.SetLatency("web-v1", 150*time.Millisecond))
	slow := timed(t, urls["web-v1"])
	assert.Less(t, fast, 150*time.Millisecond)
	assert.GreaterOrEqual(t, slow, 150*time.Millisecond)
	assert.Less(t, slow, 2*time.Second)
}

func timed(t *testing.T, url string) time.Duration {
	t.Helper()
	start := time.Now()
	require.Equal(t, 200, send(t, http.MethodGet, url).status)
	return time.Since(start)
}
