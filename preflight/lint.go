package preflight

import (
	"context"
	"fmt"

	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/ingress-canary/ingress-canary/annotations"
	"github.com/ingress-canary/ingress-canary/weights"
)

// Report is what the pre-flight checks say about one primary Ingress, for tools
// (the kubectl plugin) that want the verdict without a controller.
type Report struct {
	// Problems are the rejected annotations (*annotations.Error) and other
	// fields (*Problem), each as the controller would report it in its Warning
	// Event; Describe splits one into its parts. Empty means the Ingress is valid.
	Problems []error
	// StableService is the Service being replaced, when the checks got that far.
	StableService string
	// CanaryReady reports whether the canary Service has a ready endpoint; the
	// controller holds the first step until it has.
	CanaryReady bool
}

// Lint runs the same checks as the controller's sync on a primary Ingress:
// command and spec annotations, then Check against the live
// Services, EndpointSlices and Ingresses of its namespace. It reads with client
// and writes nothing. The returned error is an API failure; problems with the
// Ingress itself are in the report. An Ingress without canary-service is
// reported as a problem, because there is nothing for the controller to do.
func Lint(ctx context.Context, client kubernetes.Interface, ingressClass string, primary *networkingv1.Ingress) (Report, error) {
	var report Report
	_, cmdErr := annotations.ParseCommands(primary.Annotations)
	spec, specErr := annotations.Parse(primary.Annotations)
	report.Problems = append(Problems(cmdErr), Problems(specErr)...)
	if specErr != nil || cmdErr != nil {
		return report, nil
	}
	if spec == nil {
		report.Problems = append(report.Problems, &annotations.Error{Key: annotations.KeyCanaryService, Value: "",
			Expected: "set to the Service of the new version: the Ingress has not opted in"})
		return report, nil
	}
	l, err := snapshotListers(ctx, client, primary.Namespace, spec.CanaryService)
	if err != nil {
		return report, err
	}
	status, _ := weights.ParseStatus(primary.Annotations[annotations.KeyStatus])
	w, err := Check(l, ingressClass, primary, spec, status.PinnedStable(spec.CanaryService))
	report.StableService, report.CanaryReady = w.Stable, w.CanaryReady
	if problems := Problems(err); len(problems) > 0 || err == nil {
		report.Problems = append(report.Problems, problems...)
		report.Problems = append(report.Problems, Problems(ConflictOf(spec, w))...)
		return report, nil
	}
	// The listers are in memory, so an error that is not a problem report is a bug
	// in the checks rather than something the user can fix; pass it on.
	return report, fmt.Errorf("lint %s/%s: %w", primary.Namespace, primary.Name, err)
}

// snapshotListers reads, once, what Check looks at in the namespace and serves it
// through the same lister types the informers provide, so that the one Check
// is shared by the controller and by tools.
func snapshotListers(ctx context.Context, client kubernetes.Interface, namespace, canaryService string) (Listers, error) {
	ings, err := client.NetworkingV1().Ingresses(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return Listers{}, fmt.Errorf("list Ingresses in %s: %w", namespace, err)
	}
	// Check looks up the canary Service, and the stable one for its port names;
	// a missing one is a problem it reports, not a failure to read.
	svcs, err := client.CoreV1().Services(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return Listers{}, fmt.Errorf("list Services in %s: %w", namespace, err)
	}
	selector := labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: canaryService}).String()
	slices, err := client.DiscoveryV1().EndpointSlices(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return Listers{}, fmt.Errorf("list EndpointSlices of %s/%s: %w", namespace, canaryService, err)
	}
	ingIdx, err := indexerOf(ings.Items)
	if err != nil {
		return Listers{}, err
	}
	svcIdx, err := indexerOf(svcs.Items)
	if err != nil {
		return Listers{}, err
	}
	epsIdx, err := indexerOf(slices.Items)
	if err != nil {
		return Listers{}, err
	}
	return Listers{
		Ingresses:      networkinglisters.NewIngressLister(ingIdx),
		Services:       Services{Store: svcIdx},
		EndpointSlices: EndpointSlices{Indexer: epsIdx},
	}, nil
}

// indexerOf holds the listed objects (T is the API type, *T the object) in
// an indexer like an informer's, by namespace.
func indexerOf[T any, P interface {
	*T
	metav1.Object
}](items []T) (cache.Indexer, error) {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for i := range items {
		if err := idx.Add(P(&items[i])); err != nil {
			return nil, err
		}
	}
	return idx, nil
}
