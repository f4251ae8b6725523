package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// startReadLag tells the two kinds of snapshot read apart: a refresh asks
// for now, a window-start read (prom.Analyzer' fallback when no kept
// snapshot is near a step's start) for the step's start, seconds or more ago.
const startReadLag = 2 * time.Second

// queryTrace is an optional reverse proxy between the controller and
// Prometheus (-trace-queries) that records every instant query: when it
// arrived, how far its evaluation time lay behind, and how long it took.
// It is for finding out why analyses are slow; the headline query counts
// come from Prometheus' own metrics.
type queryTrace struct {
	mu   sync.Mutex
	recs []queryRec
}

type queryRec struct {
	at        time.Time
	lag, took time.Duration
}

// startQueryTrace serves the proxy on a free loopback port until stop is closed.
func startQueryTrace(target string, stop <-chan struct{}) (string, *queryTrace, error) {
	u, err := url.Parse(target)
	if err != nil {
		return "", nil, err
	}
	t := &queryTrace{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != queryHandler {
			proxy.ServeHTTP(w, r)
			return
		}
		arrived := time.Now()
		body, _ := io.ReadAll(r.Body)
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		form, _ := url.ParseQuery(string(body))
		evalAt := form.Get("time")
		if evalAt == "" {
			evalAt = r.URL.Query().Get("time")
		}
		proxy.ServeHTTP(w, r)
		rec := queryRec{at: arrived, took: time.Since(arrived)}
		if secs, err := strconv.ParseFloat(evalAt, 64); err == nil {
			rec.lag = arrived.Sub(time.Unix(0, int64(secs*1e9)))
		}
		t.mu.Lock()
		t.recs = append(t.recs, rec)
		t.mu.Unlock()
	})}
	go func() { _ = srv.Serve(l) }()
	go func() { <-stop; _ = srv.Close() }()
	return "http://" + l.Addr().String(), t, nil
}

// traceSummary is the queries of one period, by kind.
type traceSummary struct {
	Refresh, StartRead         int
	RefreshTook, StartReadTook time.Duration // mean
	StartReadLag               time.Duration // mean
}

func (t *queryTrace) summary(from, to time.Time) traceSummary {
	t.mu.Lock()
	defer t.mu.Unlock()
	var s traceSummary
	var refresh, start, lag time.Duration
	for _, r := range t.recs {
		if r.at.Before(from) || !r.at.Before(to) {
			continue
		}
		if r.lag >= startReadLag {
			s.StartRead++
			start += r.took
			lag += r.lag
		} else {
			s.Refresh++
			refresh += r.took
		}
	}
	if s.Refresh > 0 {
		s.RefreshTook = refresh / time.Duration(s.Refresh)
	}
	if s.StartRead > 0 {
		s.StartReadTook, s.StartReadLag = start/time.Duration(s.StartRead), lag/time.Duration(s.StartRead)
	}
	return s
}

func (s traceSummary) String() string {
	return fmt.Sprintf("%d refresh queries (mean %s), %d window-start queries (mean %s, evaluated %s in the past on average)",
		s.Refresh, dur(s.RefreshTook), s.StartRead, dur(s.StartReadTook), dur(s.StartReadLag))
}
