package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

// serveCmd is the hidden subcommand that runs inside the sandbox.
const serveCmd = "serve-in-sandbox"

// upTimeout bounds how long `up` waits for the cluster (warm start: ~7 s).
const upTimeout = 3 * time.Minute

func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	foreground := fs.Bool("foreground", false, "stay attached; Ctrl-C stops the cluster")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if pid, ok := runningPID(); ok {
		return fmt.Errorf("already running (sandbox pid %d); run `make down` first", pid)
	}
	if _, err := cluster.LoadBinaries(); err != nil {
		return err
	}
	if err := os.MkdirAll(stateDir(), 0o755); err != nil {
		return err
	}
	for _, f := range []string{stateFile(), pidFile()} {
		_ = os.Remove(f)
	}
	if err := os.RemoveAll(workDir()); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	// SIGTERM: when unshare dies (`down`), the cluster gets SIGTERM and stops
	// its components itself.
	cmd := cluster.SandboxCommand("SIGTERM", exe, serveCmd)
	if *foreground {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		// unshare ignores SIGTERM; killed, it SIGTERMs the cluster (--kill-child)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		signal.Ignore(syscall.SIGINT) // Ctrl-C reaches the sandbox itself
		if err := cmd.Start(); err != nil {
			return err
		}
		if err := os.WriteFile(pidFile(), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
			return err
		}
		err := cmd.Wait()
		_ = os.Remove(pidFile())
		return err
	}
	logf, err := os.OpenFile(logFile(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives this command
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	if err := os.WriteFile(pidFile(), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(upTimeout)
	for {
		if _, err := os.Stat(stateFile()); err == nil {
			fmt.Printf("cluster: up (sandbox pid %d)\n%s\n", pid, howTo())
			return nil
		}
		select {
		case err := <-exited:
			_ = os.Remove(pidFile())
			return fmt.Errorf("the cluster exited while starting (%v); see %s", err, logFile())
		case <-deadline:
			_ = down()
			return fmt.Errorf("not ready after %s; see %s", upTimeout, logFile())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// serve runs inside the sandbox: start, record state, wait for a signal, stop.
func serve() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	c, err := cluster.Start(ctx, cluster.Options{WorkDir: workDir(), Log: os.Stderr})
	if err != nil {
		return err
	}
	if err := writeState(c); err != nil {
		return errors.Join(err, c.Stop())
	}
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "cluster: stopping")
	return c.Stop()
}

// downGrace is how long the cluster gets to stop its components (~2 s).
const downGrace = 30 * time.Second

func down() error {
	defer func() {
		_ = os.Remove(pidFile())
		_ = os.Remove(stateFile())
	}()
	pid, ok := runningPID()
	if !ok {
		fmt.Println("cluster: not running")
		return nil
	}
	// The sandbox's first process (the cluster) is unshare's child: SIGTERM
	// makes it stop its components. When it exits, the kernel kills anything
	// left in the sandbox, and unshare exits too.
	waitFor := []int{pid}
	if inner, err := cluster.SandboxInitPID(pid); err == nil {
		waitFor = []int{inner, pid}
		_ = syscall.Kill(inner, syscall.SIGTERM)
	} else {
		_ = syscall.Kill(pid, syscall.SIGKILL) // --kill-child then kills the cluster
	}
	deadline := time.Now().Add(downGrace)
	for _, p := range waitFor {
		for alive(p) && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if alive(p) {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	}
	fmt.Printf("cluster: down (logs kept in %s)\n", workDir())
	return nil
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || !strings.HasPrefix(s[i+1:], " Z")
}
