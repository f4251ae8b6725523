package main

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"time"
)

// point is everything the benchmark reads at one instant, so that a period's
// figures are the difference of two points. Reading it writes nothing.
type point struct {
	at time.Time
	// writes is kube-apiserver's count of write requests by resource.
	writes map[string]float64
	// queries is Prometheus' count of instant queries; queryTime their seconds.
	queries, queryTime float64
	// The controller's workqueue wait, work and reconcile histograms, and
	// how long its due looks took (waits for Prometheus included).
	queue, work, reconcile, dueLook histogram
	// rollbacks is how late the controller acted on its decisions to roll back.
	rollbacks histogram
	// heap is the controller's Go heap in use, bytes.
	heap float64
	// cpu is the CPU seconds used so far: the controller, each component of
	// the sandbox, and the whole machine (busy and total, all cores).
	cpu                       float64
	components                map[string]float64
	machineBusy, machineTotal float64
}

// endpoints are the /metrics the benchmark reads.
type endpoints struct {
	api        *http.Client // authenticated as cluster admin
	apiURL     string
	plain      *http.Client
	promURL    string
	controller string
}

func (e endpoints) take(ctx context.Context, pid int) (point, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	p := point{at: time.Now(), cpu: cpuSeconds(pid), components: componentCPU()}
	p.machineBusy, p.machineTotal = machineCPU()
	api, err1 := scrape(ctx, e.api, e.apiURL+"/metrics")
	prom, err2 := scrape(ctx, e.plain, e.promURL+"/metrics")
	ctrl, err3 := scrape(ctx, e.plain, e.controller)
	if err := errors.Join(err1, err2, err3); err != nil {
		return p, err
	}
	p.writes = apiWrites(api)
	p.queries = prom.sum("prometheus_http_requests_total", isQueryHandler)
	p.queryTime = prom.hist("prometheus_http_request_duration_seconds", isQueryHandler).Sum
	// Every queue of the controller: ingress-canary, -urgent, -rollback.
	ours := func(l map[string]string) bool { return strings.HasPrefix(l["name"], "ingress-canary") }
	p.queue = ctrl.hist("workqueue_queue_duration_seconds", ours)
	p.work = ctrl.hist("workqueue_work_duration_seconds", ours)
	p.reconcile = ctrl.hist("ingress_canary_reconcile_duration_seconds", nil)
	p.rollbacks = ctrl.hist("ingress_canary_decision_lateness_seconds", func(l map[string]string) bool { return l["action"] == "rollback" })
	p.dueLook = ctrl.hist("ingress_canary_analysis_duration_seconds", func(l map[string]string) bool { return l["look"] == "due" })
	p.heap = ctrl.sum("go_memstats_heap_inuse_bytes", nil)
	return p, nil
}

// period is what happened between two points.
type period struct {
	from, to                                   time.Time
	writes                                     map[string]float64
	queries, queryTime                         float64
	queue, work, reconcile, dueLook, rollbacks histogram
	cpu                                        float64 // controller cores
	components                                 map[string]float64
	machineBusy                                float64 // cores
	heapStart, heapEnd                         float64
}

func (p period) Duration() time.Duration { return p.to.Sub(p.from) }

func between(a, b point) period {
	secs := b.at.Sub(a.at).Seconds()
	out := period{
		from: a.at, to: b.at,
		writes:  diff(b.writes, a.writes),
		queries: b.queries - a.queries, queryTime: b.queryTime - a.queryTime,
		queue: b.queue.minus(a.queue), work: b.work.minus(a.work), reconcile: b.reconcile.minus(a.reconcile),
		dueLook: b.dueLook.minus(a.dueLook), rollbacks: b.rollbacks.minus(a.rollbacks),
		cpu:        (b.cpu - a.cpu) / secs,
		components: map[string]float64{},
		heapStart:  a.heap, heapEnd: b.heap,
	}
	if total := b.machineTotal - a.machineTotal; total > 0 {
		// total counts every core, so busy/total is the machine's busy share;
		// times the wall time it is in cores.
		out.machineBusy = (b.machineBusy - a.machineBusy) / total * float64(runtime.NumCPU())
	}
	for k, v := range b.components {
		out.components[k] = (v - a.components[k]) / secs
	}
	return out
}
