package main

import (
	"context"
	"encoding/json"
	"fmt"
	flag "github.com/spf13/pflag"
	"maps"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// startKeys are the annotations `start` has a flag for, from the key table. Only
// the flags given on the command line are written; the others keep their current
// value (or the controller's default).
func startKeys() []annotations.SpecKey {
	var keys []annotations.SpecKey
	for _, k := range annotations.SpecKeys {
		if k.StartFlag != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// startFlagUsage is the key's doc without its Markdown, which the flag package
// would read as the value's name, and the key it writes.
func startFlagUsage(k annotations.SpecKey) string {
	usage := strings.ReplaceAll(k.Doc, "`", "") + " (" + k.Name + ")."
	if k.Name == annotations.KeyCanaryService {
		usage = "Required. " + usage
	}
	return usage
}

var startCommand = command{
	name:  "start",
	args:  "NAME",
	nargs: 1,
	short: "Start a rollout of a new Service version behind the Ingress.",
	long: `
Writes ingress-canary.dev/canary-service (from --to) and the other given
settings on the primary Ingress NAME, with a JSON merge patch that names only
those annotations. The controller notices and starts the rollout.

The annotations the Ingress would then carry are checked first, exactly as the
controller parses them; if any is invalid nothing is written and the command
exits 2 with each problem (key, value, what was expected).

Examples:
  kubectl canary start web --to web-v2
  kubectl canary start web --to web-v2 --steps 1,5,25,50 --interval 2m --max-error-rate 0.5%
  kubectl canary start web --to web-v2 --promotion manual --dry-run
`,
	setup: func(fs *flag.FlagSet) runFunc {
		keys := startKeys()
		values := make(map[string]*string, len(keys))
		for _, k := range keys {
			values[k.StartFlag] = fs.String(k.StartFlag, "", startFlagUsage(k))
		}
		dryRun := fs.Bool("dry-run", false, "Print the merge patch instead of writing it.")
		return func(ctx context.Context, a *app, g globalOptions, args []string) error {
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			if strings.TrimSpace(*values["to"]) == "" {
				return usagef("start", "--to SERVICE is required")
			}
			changes := map[string]string{}
			for _, k := range keys {
				if set[k.StartFlag] {
					changes[k.Name] = *values[k.StartFlag]
				}
			}
			return a.start(ctx, g, args[0], changes, *dryRun)
		}
	},
}

func (a *app) start(ctx context.Context, g globalOptions, name string, changes map[string]string, dryRun bool) error {
	client, namespace, ing, err := a.connectAndGet(ctx, g, name)
	if err != nil {
		return err
	}
	merged := maps.Clone(ing.Annotations)
	if merged == nil {
		merged = map[string]string{}
	}
	maps.Copy(merged, changes)
	spec, err := annotations.Parse(merged)
	if err != nil {
		for _, p := range annotations.AsErrors(err) {
			fmt.Fprintf(a.stderr, "invalid: %s\n", p)
		}
		return usagef("start", "refusing to write annotations the controller would reject")
	}
	patch, err := annotationPatch(changes)
	if err != nil {
		return err
	}
	if dryRun {
		_, err := fmt.Fprintf(a.stdout, "%s\n", patch)
		return err
	}
	if note := replacesNote(readRollout(ing), spec.CanaryService); note != "" {
		fmt.Fprintf(a.stderr, "note: %s\n", note)
	}
	if err := patchIngress(ctx, client, ing, patch); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "ingress.networking.k8s.io/%s: rollout of %s requested (%s, every %s)\n",
		name, spec.CanaryService, describePlan(spec), spec.Interval)
	fmt.Fprintf(a.stdout, "Follow it with: kubectl canary status %s -n %s --watch\n", name, namespace)
	return nil
}

// replacesNote warns when a rollout of another revision is still under way: the
// controller abandons it and starts the new one.
func replacesNote(r rollout, canary string) string {
	if !r.Status.Active() || r.Status.Revision == "" || r.Status.Revision == canary {
		return ""
	}
	return fmt.Sprintf("this replaces the rollout of %s (%s at %s)", r.Status.Revision, r.Status.Phase, formatWeight(r.Status.Weight))
}

func describePlan(spec *annotations.Spec) string {
	if spec.Strategy == annotations.StrategyBlueGreen {
		return "blue-green: preview, then switch"
	}
	parts := make([]string, len(spec.Steps))
	for i, w := range spec.Steps {
		parts[i] = w.String() + "%"
	}
	return "steps " + strings.Join(parts, ", ")
}

// signalCommand builds pause, resume, abort, promote and retry: each sets its
// command annotation to "true", which the controller removes once acted on.
func signalCommand(name, short, long string) command {
	return command{
		name:  name,
		args:  "NAME",
		nargs: 1,
		short: short,
		long: long + `

Sets ingress-canary.dev/` + name + `: "true" on the primary Ingress NAME with a JSON
merge patch. The controller removes the annotation once it has acted on it, or
removes it with a CommandIgnored Warning Event when it does not apply.

Example:
  kubectl canary ` + name + ` web -n shop
`,
		setup: func(*flag.FlagSet) runFunc {
			return func(ctx context.Context, a *app, g globalOptions, args []string) error {
				return a.signal(ctx, g, name, args[0])
			}
		},
	}
}

func (a *app) signal(ctx context.Context, g globalOptions, verb, name string) error {
	client, namespace, ing, err := a.connectAndGet(ctx, g, name)
	if err != nil {
		return err
	}
	if !annotations.Followed(ing.Annotations) {
		return fmt.Errorf("Ingress %s/%s has not opted in (no %s); start a rollout with: kubectl canary start %s --to SERVICE",
			namespace, name, annotations.KeyCanaryService, name)
	}
	if why := weights.CommandIgnored(annotations.Prefix+verb, readRollout(ing).Status); why != "" {
		fmt.Fprintf(a.stderr, "warning: %s; the controller will remove the annotation without acting on it\n", why)
	}
	patch, err := annotationPatch(map[string]string{annotations.Prefix + verb: "true"})
	if err != nil {
		return err
	}
	if err := patchIngress(ctx, client, ing, patch); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "ingress.networking.k8s.io/%s: %s requested\n", name, verb)
	return nil
}

// connectAndGet connects as the global flags say and reads the named Ingress.
func (a *app) connectAndGet(ctx context.Context, g globalOptions, name string) (kubernetes.Interface, string, *networkingv1.Ingress, error) {
	client, namespace, err := a.connect(g)
	if err != nil {
		return nil, "", nil, err
	}
	ing, err := getIngress(ctx, client, namespace, name)
	return client, namespace, ing, err
}

func getIngress(ctx context.Context, client kubernetes.Interface, namespace, name string) (*networkingv1.Ingress, error) {
	ing, err := client.NetworkingV1().Ingresses(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("get Ingress %s/%s: %w", namespace, name, err)
	}
	return ing, nil
}

// annotationPatch is a JSON merge patch that sets only the given annotations, so
// nothing else on the Ingress (the controller's status, other tools' keys) is touched.
func annotationPatch(values map[string]string) ([]byte, error) {
	return json.Marshal(map[string]any{"metadata": map[string]any{"annotations": values}})
}

func patchIngress(ctx context.Context, client kubernetes.Interface, ing *networkingv1.Ingress, patch []byte) error {
	_, err := client.NetworkingV1().Ingresses(ing.Namespace).Patch(ctx, ing.Name, types.MergePatchType, patch,
		metav1.PatchOptions{FieldManager: "kubectl-canary"})
	if err != nil {
		return fmt.Errorf("patch Ingress %s/%s: %w", ing.Namespace, ing.Name, err)
	}
	return nil
}
