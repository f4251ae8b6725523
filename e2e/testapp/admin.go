package testapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Query parameters of POST /versions/NAME.
const (
	paramErrorRate = "errorRate"
	paramLatency   = "latency"
	paramListen    = "listen"
)

// AdminHandler returns the admin API:
//
//	GET  /healthz
//	GET  /versions                                      JSON list of VersionInfo
//	POST /versions/NAME?errorRate=0.3&latency=150ms     change behaviour (either optional)
//	POST /versions/NAME?listen=ADDR                     start serving a new version
//
// Bad input is 400 with a message naming the parameter and value, an unknown
// version 404, and a name already served elsewhere 409.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /versions", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, s.Versions())
	})
	mux.HandleFunc("POST /versions/{name}", s.postVersion)
	return mux
}

// changeRequest is a parsed POST /versions/NAME; nil fields were not given.
type changeRequest struct {
	errorRate *float64
	latency   *time.Duration
	listen    string
}

func (s *Server) postVersion(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	change, err := parseChange(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := s.apply(name, change); err != nil {
		http.Error(w, err.Error(), statusOf(err))
		return
	}
	v, err := s.lookup(name)
	if err != nil {
		http.Error(w, err.Error(), statusOf(err))
		return
	}
	writeJSON(w, v.info())
}

// parseChange validates every parameter before anything is applied, so a
// request with one bad value changes nothing.
func parseChange(query url.Values) (changeRequest, error) {
	var change changeRequest
	for key := range query {
		if !slices.Contains([]string{paramErrorRate, paramLatency, paramListen}, key) {
			return change, fmt.Errorf("unknown parameter %q: want %s, %s or %s", key, paramErrorRate, paramLatency, paramListen)
		}
	}
	if query.Has(paramErrorRate) {
		rate, err := parseErrorRate(query.Get(paramErrorRate))
		if err != nil {
			return change, err
		}
		change.errorRate = &rate
	}
	if query.Has(paramLatency) {
		latency, err := parseLatency(query.Get(paramLatency))
		if err != nil {
			return change, err
		}
		change.latency = &latency
	}
	change.listen = query.Get(paramListen)
	if query.Has(paramListen) && change.listen == "" {
		return change, fmt.Errorf("%s %q: want an address such as 127.0.0.1:8081", paramListen, "")
	}
	if len(query) == 0 {
		return change, fmt.Errorf("no parameter: want %s, %s or %s", paramErrorRate, paramLatency, paramListen)
	}
	return change, nil
}

// apply starts the listener first, so that a new version can be created with
// its behaviour in one request.
func (s *Server) apply(name string, change changeRequest) error {
	if change.listen != "" {
		if _, err := s.Serve(name, change.listen); err != nil {
			return err
		}
	}
	if change.errorRate != nil {
		if err := s.SetErrorRate(name, *change.errorRate); err != nil {
			return err
		}
	}
	if change.latency != nil {
		return s.SetLatency(name, *change.latency)
	}
	return nil
}

// statusOf maps the Server's errors to HTTP statuses. Other errors are a
// failed listen, which is the host's fault rather than the caller's syntax.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrUnknownVersion):
		return http.StatusNotFound
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, errBadName):
		return http.StatusBadRequest
	default:
		return http.StatusInternalServerError
	}
}

func writeJSON(w http.ResponseWriter, value any) {
	body, err := json.Marshal(value)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(body, '\n'))
}
