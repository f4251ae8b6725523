package preflight

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// The checks read the same answers from a store of API objects (Lint's
// snapshot, an untrimmed cache) and from one of compact entries (the
// controller's trimmed cache).
func TestStoresReadAPIObjectsAndCompactEntriesAlike(t *testing.T) {
	ready, notReady := true, false
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-v2", ResourceVersion: "3"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}, {Port: 9090}}}}
	slice := func(name, service string, conds ...*bool) *discoveryv1.EndpointSlice {
		s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name,
			Labels: map[string]string{discoveryv1.LabelServiceName: service}}}
		for _, c := range conds {
			s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Conditions: discoveryv1.EndpointConditions{Ready: c}})
		}
		return s
	}
	slices := []*discoveryv1.EndpointSlice{
		slice("web-v2-a", "web-v2", &notReady), slice("web-v2-b", "web-v2", nil), // nil means ready
		slice("web-a", "web", &notReady),
		slice("api-a", "api", &ready),
	}
	for name, compact := range map[string]bool{"API objects": false, "compact entries": true} {
		t.Run(name, func(t *testing.T) {
			svcs := cache.NewStore(cache.MetaNamespaceKeyFunc)
			eps := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
			if compact {
				require.NoError(t, svcs.Add(CompactService(svc)))
				for _, s := range slices {
					require.NoError(t, eps.Add(CompactSlice(s)))
				}
			} else {
				require.NoError(t, svcs.Add(svc))
				for _, s := range slices {
					require.NoError(t, eps.Add(s))
				}
			}
			got, err := Services{Store: svcs}.Get("shop", "web-v2")
			require.NoError(t, err)
			assert.Equal(t, "web-v2", got.Name)
			assert.Equal(t, "http/80, 9090", servicePorts(got))
			_, err = Services{Store: svcs}.Get("shop", "nope")
			assert.True(t, apierrors.IsNotFound(err), "a missing Service is NotFound: %v", err)
			_, err = Services{Store: svcs}.Get("other", "web-v2")
			assert.True(t, apierrors.IsNotFound(err), "namespaced")

			for service, want := range map[string]bool{"web-v2": true, "web": false, "api": true, "none": false} {
				got, err := EndpointSlices{Indexer: eps}.Ready("shop", service)
				require.NoError(t, err)
				assert.Equal(t, want, got, service)
			}
			got2, err := EndpointSlices{Indexer: eps}.Ready("other", "api")
			require.NoError(t, err)
			assert.False(t, got2, "namespaced")
		})
	}
}

// A compact entry is much smaller than the API object it stands for, and still
// gives a store its key and an informer its resourceVersion.
func TestCompactEntriesKeepTheirIdentity(t *testing.T) {
	key, err := cache.MetaNamespaceKeyFunc(&SliceReadiness{Namespace: "shop", Name: "web-a", ResourceVersion: "7"})
	require.NoError(t, err)
	assert.Equal(t, "shop/web-a", key)
	key, err = cache.MetaNamespaceKeyFunc(&ServicePorts{Namespace: "shop", Name: "web", ResourceVersion: "8"})
	require.NoError(t, err)
	assert.Equal(t, "shop/web", key)
	assert.Equal(t, "8", (&ServicePorts{ResourceVersion: "8"}).GetObjectMeta().GetResourceVersion())
}
