package main

import (
	"fmt"
	"os"
	"os/exec"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

// builtInSandbox are the packages the demo builds inside the sandbox with
// cluster.GoBuild (the controller, and the kubectl plugin when it builds).
var builtInSandbox = []string{controllerPkg, pluginPkg}

// prefetchModules makes sure the Go modules those packages import are in the
// module cache. It runs on the host, before the sandbox, because inside there
// is no network and GoBuild sets GOPROXY=off; `go run ./e2e/cmd/demo` fetched
// only the demo's own modules, not the controller's (zap, for one). Failing
// here is only a warning: the build in the sandbox then says what is missing.
func prefetchModules() {
	root, err := cluster.ModuleRoot()
	if err != nil {
		return // GoBuild reports the same error, with context
	}
	// -e: a package that does not compile yet (the plugin) must not stop the others.
	cmd := exec.Command("go", append([]string{"list", "-e", "-deps"}, builtInSandbox...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: warning: fetching Go modules failed (%v); the build may fail offline:\n%s", err, out)
	}
}
