package controller

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func ingressTo(service string) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: networkingv1.IngressSpec{DefaultBackend: &networkingv1.IngressBackend{
			Service: &networkingv1.IngressServiceBackend{Name: service, Port: networkingv1.ServiceBackendPort{Number: 80}}}},
	}
}

// A sync that reads a cache older than its own switch sends the switch again; the
// apiserver rejects it at the test op (422). That is success, not an error to retry.
func TestSwitchPrimaryFromAStaleCache(t *testing.T) {
	for name, tc := range map[string]struct {
		live    string
		wantErr bool
	}{
		"already switched by us": {live: "web-v2", wantErr: false},
		// What the next sync would conclude from the cache too: nothing names stable.
		"a user moved it off stable": {live: "web-v9", wantErr: false},
		"still on stable, test fail": {live: "web-v1", wantErr: true},
	} {
		t.Run(name, func(t *testing.T) {
			client := fake.NewClientset(ingressTo(tc.live))
			client.PrependReactor("patch", "ingresses", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, apierrors.NewInvalid(schema.GroupKind{Group: "networking.k8s.io", Kind: "Ingress"}, "web",
					field.ErrorList{field.Invalid(field.NewPath("spec"), nil, "the server rejected our request due to an error in our request")})
			})
			c := &Controller{client: client}
			err := c.switchPrimary(context.Background(), ingressTo("web-v1"), "web-v1", "web-v2", networkingv1.ServiceBackendPort{Number: 80})
			if tc.wantErr {
				assert.Error(t, err)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}
