package controller

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

func TestTrimForCacheDropsWhatIsNeverRead(t *testing.T) {
	ing := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{
		Name: "web", Namespace: "shop",
		Annotations: map[string]string{
			LastAppliedAnnotation:               `{"apiVersion":"networking.k8s.io/v1","kind":"Ingress"}`,
			"ingress-canary.dev/canary-service": "web-v2",
		},
		Labels:        map[string]string{"app": "web"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}},
	}}
	out, err := TrimForCache(ing)
	require.NoError(t, err)
	got := out.(*networkingv1.Ingress)
	assert.Nil(t, got.ManagedFields)
	assert.Equal(t, map[string]string{"ingress-canary.dev/canary-service": "web-v2"}, got.Annotations, "only last-applied is dropped")
	assert.Equal(t, map[string]string{"app": "web"}, got.Labels)
}

func TestTrimForCacheKeepsTombstonesAndBareObjects(t *testing.T) {
	tomb := cache.DeletedFinalStateUnknown{Key: "shop/web"}
	out, err := TrimForCache(tomb)
	require.NoError(t, err)
	assert.Equal(t, tomb, out)

	bare := &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Name: "web"}}
	out, err = TrimForCache(bare)
	require.NoError(t, err)
	assert.Nil(t, out.(*networkingv1.Ingress).Annotations)
}
