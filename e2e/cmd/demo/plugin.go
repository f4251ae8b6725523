package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
	"github.com/ingress-canary/ingress-canary/weights"
)

const (
	// pluginPkg is the kubectl plugin's main package.
	pluginPkg = "./cmd/kubectl-canary"
	// pluginTimeout bounds one kubectl-canary command.
	pluginTimeout = 15 * time.Second
)

// buildPlugin builds the kubectl plugin (cmd/kubectl-canary) into the work
// dir and returns its path, or "" with a note when it does not build: the
// demo shows the controller, and the plugin is only a view of it.
func buildPlugin(ctx context.Context, c *cluster.Cluster) string {
	bin := filepath.Join(c.WorkDir(), "bin", "kubectl-canary")
	if err := cluster.GoBuild(ctx, pluginPkg, bin, filepath.Join(c.WorkDir(), "gotmp")); err != nil {
		say("note: the kubectl plugin (%s) did not build, so the demo shows no `kubectl canary` output:\n       %s",
			pluginPkg, firstCompilerError(err))
		return ""
	}
	say("kubectl plugin built: %s", bin)
	return bin
}

// firstCompilerError picks the first line of go build's output that says
// what is wrong (its "# package" headers do not), else the error's first line.
func firstCompilerError(err error) string {
	lines := strings.Split(err.Error(), "\n")
	for _, line := range lines[1:] {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			return line
		}
	}
	return lines[0]
}

// pluginWatchFor is how long `kubectl canary status --watch` is shown: three redraws.
const pluginWatchFor = 5 * time.Second

// maybeShowPluginStatus shows `kubectl canary status --watch` for a few
// redraws, a few seconds into the step named by the rollout's showPluginAt,
// when the canary has had some traffic at that weight.
func (d *demo) maybeShowPluginStatus(ctx context.Context, res *result, st weights.Status, view *liveView) {
	if d.plugin == "" || res.showPluginAt == 0 || res.pluginShown || st.Step != res.showPluginAt || st.StepStarted == nil ||
		time.Since(*st.StepStarted) < 4*time.Second {
		return
	}
	res.pluginShown = true
	fmt.Println()
	watchCtx, cancel := context.WithTimeout(ctx, pluginWatchFor)
	defer cancel()
	d.runPlugin(watchCtx, "status", pluginName(), "-n", namespace, "--watch", "--interval", "2s")
	say("(the watch goes on until the rollout ends; the demo stops it after %s)", pluginWatchFor)
	fmt.Println()
	view.printHeader()
}

// showPluginList shows `kubectl canary list -A` at the end.
func (d *demo) showPluginList(ctx context.Context) {
	if d.plugin != "" {
		section("Every rollout in the cluster, as the kubectl plugin lists them")
		d.runPlugin(ctx, "list", "-A")
	}
}

// runPlugin runs the plugin with the cluster's kubeconfig and prints its
// output, indented. A failure is shown, never fatal.
func (d *demo) runPlugin(ctx context.Context, args ...string) {
	if d.plugin == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, pluginTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, d.plugin, append(args, "--kubeconfig="+d.c.Kubeconfig)...).CombinedOutput()
	fmt.Printf("   $ kubectl canary %s\n%s\n", strings.Join(args, " "), indent(string(out), "   | "))
	if err != nil && ctx.Err() == nil {
		say("(kubectl canary %s: %v)", args[0], err)
	}
}
