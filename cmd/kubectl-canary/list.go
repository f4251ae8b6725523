package main

import (
	"context"
	"fmt"
	flag "github.com/spf13/pflag"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var listCommand = command{
	name:  "list",
	short: "List the Ingresses that take part in rollouts, with their progress.",
	long: `
Lists every Ingress and Gateway API HTTPRoute (shown as httproute/NAME) that has opted in (it has ingress-canary.dev/canary-service)
or that carries a status from an earlier rollout, with its phase, step, weight,
the revision being rolled out, the last analysis and how long ago the
controller last changed its status.

With -o json it prints a JSON array of objects with the same fields (kind, namespace,
name, phase, step, weight, canary, lastAnalysis, age) plus the status object
as the controller wrote it ("status"; null before the first write).

Examples:
  kubectl canary list
  kubectl canary list -A
  kubectl canary list -n shop -o json | jq '.[] | select(.phase == "Failed")'
`,
	setup: func(*flag.FlagSet) runFunc {
		return func(ctx context.Context, a *app, g globalOptions, _ []string) error { return a.list(ctx, g) }
	},
}

// listRoutes lists the HTTPRoutes, or none where the cluster does not serve
// the Gateway API.
func (a *app) listRoutes(ctx context.Context, g globalOptions, namespace string) ([]followed, error) {
	if a.connectRoutes == nil {
		return nil, nil
	}
	gw, err := a.connectRoutes(g)
	if err != nil {
		return nil, err
	}
	list, err := gw.GatewayV1().HTTPRoutes(namespace).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list HTTPRoutes: %w", err)
	}
	var out []followed
	for i := range list.Items {
		out = append(out, followedRoute(&list.Items[i]))
	}
	return out, nil
}

func (a *app) list(ctx context.Context, g globalOptions) error {
	client, namespace, err := a.connect(g)
	if err != nil {
		return err
	}
	if g.allNamespaces {
		namespace = metav1.NamespaceAll
	}
	ings, err := client.NetworkingV1().Ingresses(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list Ingresses: %w", err)
	}
	var objs []followed
	for i := range ings.Items {
		objs = append(objs, followedIngress(&ings.Items[i]))
	}
	routes, err := a.listRoutes(ctx, g, namespace)
	if err != nil {
		return err
	}
	rows := listRows(append(objs, routes...), a.now())
	if g.output == outputJSON {
		return writeJSON(a.stdout, rows)
	}
	if len(rows) == 0 {
		where := "in namespace " + namespace
		if g.allNamespaces {
			where = "in any namespace"
		}
		fmt.Fprintf(a.stderr, "No rollouts found %s.\n", where)
		return nil
	}
	return renderList(a.stdout, rows, g.allNamespaces)
}
