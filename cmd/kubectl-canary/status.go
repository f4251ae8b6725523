package main

import (
	"context"
	"fmt"
	flag "github.com/spf13/pflag"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
)

// eventComponent is the source the controller records its Events under.
const eventComponent = "ingress-canary"

// maxEvents is how many of the Ingress's most recent Events status shows.
const maxEvents = 10

type statusOptions struct {
	watch     bool
	interval  time.Duration
	exitCode  bool
	allEvents bool
}

var statusCommand = command{
	name:  "status",
	args:  "NAME",
	nargs: 1,
	short: "Show one rollout: progress, weight, analysis figures and Events.",
	long: `
Shows the rollout of the primary Ingress NAME: a progress bar over the steps
(ingress-canary.dev/steps), the phase and weight, the canary's and the stable
side's figures from the last analysis, the time to the next check, the
controller's message and the last 10 Events ingress-canary recorded on the
Ingress (--all-events adds other controllers' Events, such as ingress-nginx's
Sync).

--watch redraws every --interval until the rollout ends (Succeeded, Failed or
Invalid) or Ctrl-C, both of which exit 0. A Succeeded or Failed status about an
older revision than canary-service names does not end the watch: the
controller is about to start the new rollout.

With --exit-code the command exits 4 when the (final) phase is Failed or
Invalid, so a pipeline can wait for a rollout and fail with it.

With -o json it prints the status object as the controller wrote it (once per
redraw with --watch).

Examples:
  kubectl canary status web
  kubectl canary status web -n shop --watch --interval 5s
  kubectl canary status web --watch --exit-code && echo promoted
`,
	setup: func(fs *flag.FlagSet) runFunc {
		var o statusOptions
		fs.BoolVarP(&o.watch, "watch", "w", false, "Redraw every --interval until the rollout ends or Ctrl-C.")
		fs.DurationVar(&o.interval, "interval", 2*time.Second, "Time between redraws with --watch.")
		fs.BoolVar(&o.exitCode, "exit-code", false, "Exit 4 when the rollout is Failed or Invalid.")
		fs.BoolVar(&o.allEvents, "all-events", false, "Show every controller's Events on the Ingress, not only ingress-canary's.")
		return func(ctx context.Context, a *app, g globalOptions, args []string) error {
			if o.interval <= 0 {
				return usagef("status", "--interval=%s: want a positive duration", o.interval)
			}
			return a.status(ctx, g, args[0], o)
		}
	},
}

func (a *app) status(ctx context.Context, g globalOptions, name string, o statusOptions) error {
	client, namespace, err := a.connect(g)
	if err != nil {
		return err
	}
	for first := true; ; first = false {
		r, err := a.showStatus(ctx, client, g, namespace, name, o, first)
		if err != nil {
			if ctx.Err() != nil {
				return nil // Ctrl-C during a read: the user ended the watch
			}
			return err
		}
		done := !o.watch || r.finished()
		if !done && a.sleep(ctx, o.interval) != nil {
			done = true // Ctrl-C
		}
		if done {
			if o.exitCode && r.failed() {
				return &exitCodeError{code: exitRolloutFailed}
			}
			return nil
		}
	}
}

// showStatus reads the Ingress (or, for httproute/NAME, the HTTPRoute) and
// its Events and draws the view once.
func (a *app) showStatus(ctx context.Context, client kubernetes.Interface, g globalOptions, namespace, name string, o statusOptions, first bool) (rollout, error) {
	f, err := a.getFollowed(ctx, client, g, namespace, name)
	if err != nil {
		return rollout{}, err
	}
	r := readRolloutOf(f)
	if g.output == outputJSON {
		return r, writeJSON(a.stdout, r.Status)
	}
	events, err := objectEvents(ctx, client, f, o.allEvents)
	if err != nil {
		return r, err
	}
	switch {
	case o.watch && a.terminal:
		// Clear the screen and home the cursor, so each redraw replaces the last.
		fmt.Fprint(a.stdout, "\x1b[H\x1b[2J")
	case !first:
		fmt.Fprintln(a.stdout) // appended redraws (to a file or pipe) stay readable
	}
	renderStatus(a.stdout, buildStatusView(f, r, events, a.now()))
	return r, nil
}

// getFollowed reads the Ingress name, or the HTTPRoute of httproute/name.
func (a *app) getFollowed(ctx context.Context, client kubernetes.Interface, g globalOptions, namespace, name string) (followed, error) {
	route, isRoute := strings.CutPrefix(name, routePrefix)
	if !isRoute {
		ing, err := client.NetworkingV1().Ingresses(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return followed{}, fmt.Errorf("get Ingress %s/%s: %w", namespace, name, err)
		}
		return followedIngress(ing), nil
	}
	if a.connectRoutes == nil {
		return followed{}, fmt.Errorf("get HTTPRoute %s/%s: no Gateway API client", namespace, route)
	}
	gw, err := a.connectRoutes(g)
	if err != nil {
		return followed{}, err
	}
	r, err := gw.GatewayV1().HTTPRoutes(namespace).Get(ctx, route, metav1.GetOptions{})
	if err != nil {
		return followed{}, fmt.Errorf("get HTTPRoute %s/%s: %w", namespace, route, err)
	}
	return followedRoute(r), nil
}

// objectEvents returns the object's most recent Events, oldest first: only
// ingress-canary's unless all, because ingress-nginx records a Sync Event on
// every Ingress change and would crowd ours out. The field selector narrows the
// list on the server; the same checks run here again because a selector is a
// hint some API servers (and fakes) do not apply, and the UID keeps out Events
// of an earlier object of the same name.
func objectEvents(ctx context.Context, client kubernetes.Interface, f followed, all bool) ([]corev1.Event, error) {
	selector := fields.Set{"involvedObject.kind": f.Kind, "involvedObject.name": f.Name}.AsSelector().String()
	list, err := client.CoreV1().Events(f.Namespace).List(ctx, metav1.ListOptions{FieldSelector: selector})
	if err != nil {
		return nil, fmt.Errorf("list Events of %s %s/%s: %w", f.Kind, f.Namespace, f.Name, err)
	}
	var out []corev1.Event
	for _, e := range list.Items {
		o := e.InvolvedObject
		ours := e.Source.Component == eventComponent || e.ReportingController == eventComponent
		if o.Kind == f.Kind && o.Name == f.Name && (o.UID == "" || f.UID == "" || o.UID == f.UID) && (all || ours) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return eventTime(out[i]).Before(eventTime(out[j])) })
	if len(out) > maxEvents {
		out = out[len(out)-maxEvents:]
	}
	return out, nil
}

// eventTime is when an Event last happened. core/v1 Events from the record
// package set lastTimestamp; events.k8s.io ones set eventTime.
func eventTime(e corev1.Event) time.Time {
	for _, t := range []time.Time{e.LastTimestamp.Time, e.EventTime.Time, e.FirstTimestamp.Time} {
		if !t.IsZero() {
			return t
		}
	}
	return e.CreationTimestamp.Time
}
