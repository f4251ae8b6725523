// Command traffic sends a bounded, paced stream of requests (through nginx in
// the demo) and prints, every second, which versions answered with which
// statuses, then a final summary. See package traffic.
//
//	traffic --url http://127.0.0.1:18080/ --host demo.local --header X-Canary:always --rps 50 --max-duration 1m
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/traffic"
)

// exitUsage is the conventional status for bad command-line input.
const exitUsage = 2

func main() {
	cfg, err := parseFlags(os.Args[1:])
	var gen *traffic.Generator
	if err == nil {
		gen, err = traffic.New(cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "traffic:", err)
		os.Exit(exitUsage)
	}
	// Ctrl-C ends the run early but still prints what was counted.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	final := runWithProgress(ctx, gen, os.Stdout, time.Second)
	fmt.Fprintln(os.Stdout, "final:", final)
}

// runWithProgress runs gen and writes one line per period: time so far, the
// requests of the last period, and the running counts.
func runWithProgress(ctx context.Context, gen *traffic.Generator, out io.Writer, period time.Duration) traffic.Counts {
	done := make(chan traffic.Counts, 1)
	go func() { done <- gen.Run(ctx) }()
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	start := time.Now()
	var last traffic.Counts
	for {
		select {
		case final := <-done:
			return final
		case <-ticker.C:
			now := gen.Snapshot()
			fmt.Fprintf(out, "%5.1fs +%d %s\n", time.Since(start).Seconds(), now.Sub(last).Total, now)
			last = now
		}
	}
}
