package controller

import (
	"testing"

	"github.com/stretchr/testify/assert"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestOwnWritesTellEchoesFromOtherChanges(t *testing.T) {
	at := func(name, rv string) *networkingv1.Ingress {
		return &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: rv}}
	}
	o := newOwnWrites()
	assert.False(t, o.isEcho(at("web", "10")), "nothing written yet")

	o.wrote(at("web", "11"))
	assert.False(t, o.isEcho(at("web", "10")), "an older version is someone else's change")
	assert.False(t, o.isEcho(at("api", "11")), "another Ingress")
	assert.True(t, o.isEcho(at("web", "11")))
	assert.False(t, o.isEcho(at("web", "11")), "an echo comes once")

	o.wrote(at("web", "12"))
	o.wrote(at("web", "13"))
	assert.False(t, o.isEcho(at("web", "12")), "only the last write is remembered: an earlier echo is synced, which is harmless")
	assert.True(t, o.isEcho(at("web", "13")))

	o.wrote(at("web", "14"))
	o.forget(ns, "web")
	assert.False(t, o.isEcho(at("web", "14")))
	o.wrote(at("web", ""))
	assert.Empty(t, o.byKey, "a write without a resourceVersion is not remembered")
}
