package main

import (
	"context"
	"fmt"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
	gwinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"

	"github.com/ingress-canary/ingress-canary/analysis/prom"
	"github.com/ingress-canary/ingress-canary/controller"
	"github.com/ingress-canary/ingress-canary/routers"
)

const gatewayAPIAuto = "auto"

var gatewayAPIModes = map[string]bool{gatewayAPIAuto: true, "true": true, "false": true}

// gatewayResources are the Gateway API resources the HTTPRoute controller watches.
var gatewayResources = []string{"httproutes", "gateways", "gatewayclasses"}

// gatewayAPIServed asks discovery whether the cluster serves every resource
// the HTTPRoute controller watches in gateway.networking.k8s.io/v1.
func gatewayAPIServed(d discovery.DiscoveryInterface) (bool, error) {
	list, err := d.ServerResourcesForGroupVersion(gwv1.GroupVersion.String())
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("discover %s: %w", gwv1.GroupVersion, err)
	}
	served := map[string]bool{}
	for _, r := range list.APIResources {
		served[r.Name] = true
	}
	for _, r := range gatewayResources {
		if !served[r] {
			return false, nil
		}
	}
	return true, nil
}

// gatewayAPIEnabled decides, once at start, whether HTTPRoutes are followed,
// and says so in the log.
func gatewayAPIEnabled(mode string, d discovery.DiscoveryInterface, log *zap.Logger) (bool, error) {
	if mode == "false" {
		log.Info("Gateway API HTTPRoutes are not followed (--gateway-api=false)")
		return false, nil
	}
	served, err := gatewayAPIServed(d)
	if err != nil {
		return false, err
	}
	switch {
	case served:
		log.Info("following annotated Gateway API HTTPRoutes", zap.String("groupVersion", gwv1.GroupVersion.String()))
	case mode == "true":
		return false, fmt.Errorf("--gateway-api=true, but the cluster does not serve %v in %s: install the Gateway API CRDs", gatewayResources, gwv1.GroupVersion)
	default:
		log.Info("Gateway API not served by this cluster: only Ingresses are followed", zap.String("groupVersion", gwv1.GroupVersion.String()))
	}
	return served, nil
}

// routeRunner builds the HTTPRoute controller on its own informer factory.
// The Gateway API client speaks JSON: custom resources have no protobuf.
type routeRunner struct {
	client    gwclient.Interface
	analyzers map[string]controller.Analyzer
}

func newRouteRunner(cfg *rest.Config, newAnalyzer func(prom.Dialect) controller.Analyzer) (*routeRunner, error) {
	c := rest.CopyConfig(cfg)
	c.AcceptContentTypes, c.ContentType = "application/json", "application/json"
	client, err := gwclient.NewForConfig(c)
	if err != nil {
		return nil, err
	}
	analyzers := map[string]controller.Analyzer{}
	for _, name := range routers.GatewayControllerNames() {
		impl, _ := routers.LookupGateway(name)
		analyzers[impl.Metrics.Name()] = newAnalyzer(impl.Metrics)
	}
	return &routeRunner{client: client, analyzers: analyzers}, nil
}

// start wires the controller (before factory starts) and returns its run
// function.
func (r *routeRunner) start(o options, factory informers.SharedInformerFactory, recorder record.EventRecorder,
	metrics *controller.Metrics, log *zap.Logger, opts controller.Options) (gwinformers.SharedInformerFactory, func(context.Context) error, error) {
	gwFactory := gwinformers.NewSharedInformerFactoryWithOptions(r.client, resync, gwinformers.WithNamespace(o.namespace))
	ctrl, err := controller.NewRoutes(r.client, gwFactory, factory, recorder, r.analyzers, metrics, log, opts)
	if err != nil {
		return nil, nil, err
	}
	return gwFactory, func(ctx context.Context) error { return ctrl.Run(ctx, o.workers) }, nil
}
