// Command cluster runs the e2e cluster (package e2e/cluster) for a person:
//
//	cluster up [-foreground]   start it in a new sandbox (make up); without
//	                           -foreground it returns once the cluster is ready
//	                           and keeps running in the background
//	cluster down               stop it (make down)
//	cluster status             say whether it runs, and how to reach it
//
// State lives in CacheDir()/up: pid (unshare's PID on the host, whose network
// and mount namespaces are the sandbox's), state.env (kubeconfig and URLs,
// written when ready), cluster.log (the harness's output) and work/ (the
// cluster's files and component logs). e2e/setup/sandbox.sh runs a command
// inside the running sandbox; e2e/setup/kubectl.sh runs kubectl there.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up(os.Args[2:])
	case "down":
		err = down()
	case "status":
		err = status()
	case serveCmd: // inside the sandbox, started by up
		err = serve()
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: cluster up [-foreground] | down | status")
	os.Exit(2)
}
