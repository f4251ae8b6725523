// Command testapp serves several application versions (web-v1, web-v2, ...)
// from one process, each on its own address, plus an admin API to change their
// behaviour while they run. See package testapp for the API.
//
//	testapp --admin 127.0.0.1:9000 --serve web-v1=10.0.0.1:8080 --serve web-v2=10.0.0.2:8080
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/testapp"
)

// shutdownGrace lets requests in flight (including injected latency) finish on SIGTERM.
const shutdownGrace = 5 * time.Second

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "testapp:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	app := testapp.NewServer()
	for _, s := range opts.serve {
		addr, err := app.Serve(s.name, s.addr)
		if err != nil {
			return errors.Join(err, app.Shutdown(context.Background()))
		}
		log.Info("serving version", "name", s.name, "addr", addr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return serveAdmin(ctx, log, app, opts.admin)
}

// serveAdmin runs the admin API until a signal arrives, then shuts down the
// admin listener and every version.
func serveAdmin(ctx context.Context, log *slog.Logger, app *testapp.Server, addr string) error {
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return errors.Join(fmt.Errorf("admin: listen on %s: %w", addr, err), app.Shutdown(context.Background()))
	}
	admin := &http.Server{Handler: app.AdminHandler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- admin.Serve(listener) }()
	log.Info("admin listening", "addr", listener.Addr().String())

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-served:
		return errors.Join(fmt.Errorf("admin: %w", err), app.Shutdown(context.Background()))
	}
	grace, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = errors.Join(admin.Shutdown(grace), app.Shutdown(grace))
	<-served // Serve has returned ErrServerClosed by now; wait so nothing outlives run.
	log.Info("stopped")
	return err
}
