package controller

import (
	"context"
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingress-canary/ingress-canary/backends"
	"github.com/ingress-canary/ingress-canary/preflight"
	"github.com/ingress-canary/ingress-canary/weights"
)

// keeperHost is a host no client sends: .invalid is reserved (RFC 2606).
const keeperHost = ".keep.ingress-canary.invalid"

// convergeKeeper creates or deletes the keeper Ingress as t.KeepStable says.
// It is created only while the primary still routes to the stable Service
// (the ports are copied from it), and an Ingress of that name that is not
// ours is left alone.
func (c *Controller) convergeKeeper(ctx context.Context, primary *networkingv1.Ingress, in weights.Input, w preflight.World, keep bool) error {
	name := preflight.KeeperName(primary.Name)
	cur, err := c.listers.Ingresses.Ingresses(primary.Namespace).Get(name)
	switch {
	case apierrors.IsNotFound(err):
		cur = nil
	case err != nil:
		return err
	case !metav1.IsControlledBy(cur, primary):
		return nil
	}
	if !keep {
		return c.deleteCanary(ctx, cur)
	}
	if cur != nil {
		return nil
	}
	stable := in.Status.Stable
	if stable == "" {
		stable = w.Stable
	}
	desired := renderKeeper(primary, stable)
	if desired == nil {
		return nil // the primary no longer routes to it: nothing left to keep
	}
	created, err := c.client.NetworkingV1().Ingresses(primary.Namespace).Create(ctx, desired, metav1.CreateOptions{FieldManager: FieldManager})
	if err != nil {
		return fmt.Errorf("create keeper Ingress %s/%s: %w", desired.Namespace, desired.Name, err)
	}
	c.ownWrites.wrote(created)
	return nil
}

// renderKeeper is an Ingress of the primary's class that routes a host no
// client uses to the stable Service, on every port the primary uses for it, so
// that the data plane keeps the same upstreams (named by Service and port as
// written). Nil when the primary no longer routes to stable.
func renderKeeper(primary *networkingv1.Ingress, stable string) *networkingv1.Ingress {
	exact := networkingv1.PathTypeExact
	seen := map[string]bool{}
	var paths []networkingv1.HTTPIngressPath
	for _, b := range backends.To(primary, stable) {
		port := b.Backend.Service.Port
		if seen[preflight.PortString(port)] {
			continue
		}
		seen[preflight.PortString(port)] = true
		paths = append(paths, networkingv1.HTTPIngressPath{
			Path: fmt.Sprintf("/%d", len(paths)), PathType: &exact,
			Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: stable, Port: port}},
		})
	}
	if len(paths) == 0 {
		return nil
	}
	ing := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{
			Name:            preflight.KeeperName(primary.Name),
			Namespace:       primary.Namespace,
			Labels:          map[string]string{ManagedByLabel: ManagedByValue},
			Annotations:     map[string]string{},
			OwnerReferences: []metav1.OwnerReference{ownerRef(primary)},
		},
		Spec: networkingv1.IngressSpec{
			IngressClassName: primary.Spec.IngressClassName,
			Rules: []networkingv1.IngressRule{{
				Host:             string(primary.UID) + keeperHost,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: paths}},
			}},
		},
	}
	if class, ok := primary.Annotations[preflight.LegacyClassAnnotation]; ok {
		ing.Annotations[preflight.LegacyClassAnnotation] = class
	}
	return ing
}
