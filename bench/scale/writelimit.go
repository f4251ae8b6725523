package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// writeLimitKey is the annotation the bare loop writes: not one of the
// controller's, so that no controller ever acts on it, and trimmed from its
// cache like any other.
const writeLimitKey = "scale-bench.ingress-canary.dev/write-limit"

// WriteLimit is what the bare client loop achieved: the API server's write
// limit on this machine, for the controller's own rate to be compared with.
type WriteLimit struct {
	Workers  int
	Took     time.Duration
	Pairs    int64 // one status patch and one weight patch, as a step writes
	Errors   int64
	LastErr  string
	Load     string
	PerPair  time.Duration // mean
	Requests float64       // patches per second
}

// PairsPerSecond is the loop's rate of steps' writes.
func (l WriteLimit) PairsPerSecond() float64 {
	if l.Took <= 0 {
		return 0
	}
	return float64(l.Pairs) / l.Took.Seconds()
}

// measureWriteLimit runs, for d, as many loops as the controller has
// workers, each doing what a step's sync writes, back to back: a merge patch
// of a status-sized annotation with the resourceVersion as precondition (as
// writeStatus does), then a merge patch of another Ingress's annotation (as
// patchCanaryWeight does). The client is the controller's (protobuf reads,
// JSON merge patches) without its rate limiter, so the API server alone sets
// the pace. It uses the Ingresses no run rolls out.
func (b *bench) measureWriteLimit(ctx context.Context, d time.Duration, workers int) (WriteLimit, error) {
	res := WriteLimit{Workers: workers, Load: loadavg()}
	cfg := rest.CopyConfig(b.c.RESTConfig)
	cfg.QPS, cfg.Burst = -1, 0 // no client-side limit
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return res, err
	}
	var spare []ingressPlan
	for _, p := range b.fleet.ingresses {
		if p.Run < 0 {
			spare = append(spare, p)
		}
	}
	if len(spare) < 2*workers {
		return res, fmt.Errorf("write limit: %d spare Ingresses, want at least %d", len(spare), 2*workers)
	}
	// A status annotation of a step in progress is about this long.
	filler := strings.Repeat("x", 240)
	var pairs, errs atomic.Int64
	var lastErr atomic.Value
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	began := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		var mine []ingressPlan
		for i := w; i < len(spare); i += workers {
			mine = append(mine, spare[i])
		}
		wg.Go(func() {
			rv := map[string]string{}
			for n := 0; ctx.Err() == nil; n++ {
				status, weight := mine[(2*n)%len(mine)], mine[(2*n+1)%len(mine)]
				err := patchStatusLike(ctx, client, status, rv, filler+strconv.Itoa(n))
				if err == nil {
					err = patchAnnotation(ctx, client, weight, map[string]any{writeLimitKey: strconv.Itoa(n % 100)})
				}
				switch {
				case ctx.Err() != nil:
					return
				case err != nil:
					errs.Add(1)
					lastErr.Store(err.Error())
				default:
					pairs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	res.Took, res.Pairs, res.Errors = time.Since(began), pairs.Load(), errs.Load()
	if e, ok := lastErr.Load().(string); ok {
		res.LastErr = e
	}
	if res.Pairs > 0 {
		res.PerPair = res.Took * time.Duration(workers) / time.Duration(res.Pairs)
	}
	res.Requests = 2 * res.PairsPerSecond()
	return res, nil
}

// patchStatusLike patches p's annotation conditionally on the resourceVersion
// it last wrote (read first when unknown), as the controller's status write
// is conditional on the cached one.
func patchStatusLike(ctx context.Context, client kubernetes.Interface, p ingressPlan, rv map[string]string, value string) error {
	key := p.Namespace + "/" + p.Name
	if rv[key] == "" {
		ing, err := client.NetworkingV1().Ingresses(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		rv[key] = ing.ResourceVersion
	}
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"resourceVersion": rv[key], "annotations": map[string]any{writeLimitKey: value},
	}})
	if err != nil {
		return err
	}
	ing, err := client.NetworkingV1().Ingresses(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, body, metav1.PatchOptions{FieldManager: "scale-bench"})
	if err != nil {
		delete(rv, key)
		return err
	}
	rv[key] = ing.ResourceVersion
	return nil
}

func patchAnnotation(ctx context.Context, client kubernetes.Interface, p ingressPlan, ann map[string]any) error {
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": ann}})
	if err != nil {
		return err
	}
	_, err = client.NetworkingV1().Ingresses(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, body, metav1.PatchOptions{FieldManager: "scale-bench"})
	return err
}

// controllerWorkers is the controller's --workers as the extra flags set it,
// else its default.
func controllerWorkers(extra []string) int {
	workers := 4
	for _, a := range extra {
		if v, ok := strings.CutPrefix(a, "--workers="); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				workers = n
			}
		}
	}
	return workers
}
