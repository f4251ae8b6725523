package cluster

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/ingress-canary/ingress-canary/e2e/testapp"
)

// firstBackendAddr is the first bridge address handed to a version; lower
// ones are left for tests that want to listen on the bridge themselves.
const firstBackendAddr = 10

// startTestApp starts the project's backend process (e2e/testapp), serving no
// version yet; DeployVersion adds versions through its admin API.
func (c *Cluster) startTestApp(ctx context.Context) error {
	bin := c.bins.TestApp
	if bin == "" {
		bin = filepath.Join(c.dir, "bin", "testapp")
		if err := GoBuild(ctx, "./e2e/testapp/cmd/testapp", bin, filepath.Join(c.dir, "gotmp")); err != nil {
			return err
		}
	}
	admin := "127.0.0.1:" + strconv.Itoa(testappPort)
	p, err := startComponent("testapp", c.logPath("testapp"), nil, bin, "--admin", admin)
	if err != nil {
		return err
	}
	c.testapp = p
	c.admin = testapp.AdminClient{BaseURL: "http://" + admin}
	return waitReady(ctx, p, 15*time.Second, expectStatus(c.admin.BaseURL+"/healthz", "", 200))
}

// VersionAddr returns the bridge address (host:port) where the testapp serves
// version, and whether it does.
func (c *Cluster) VersionAddr(version string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	addr, ok := c.versions[version]
	return addr, ok
}

// serveVersion makes the testapp serve version on its own bridge address,
// once; it returns that address.
func (c *Cluster) serveVersion(ctx context.Context, version string) (string, error) {
	// Held across the admin call: parallel tests must not pick the same address.
	c.mu.Lock()
	defer c.mu.Unlock()
	if addr, ok := c.versions[version]; ok {
		return addr, nil
	}
	i := firstBackendAddr + len(c.versions)
	if i > BridgeAddrs {
		return "", fmt.Errorf("no free bridge address for version %q (%d served)", version, len(c.versions))
	}
	addr := net.JoinHostPort(BridgeAddr(i), strconv.Itoa(backendPort))
	if err := c.admin.Serve(ctx, version, addr); err != nil {
		return "", err
	}
	c.versions[version] = addr
	return addr, nil
}

// DeployVersion publishes testapp version `version` as Service `service` in
// namespace (created if missing): a Service without selector (port 80, name
// http, targetPort 8080) and an EndpointSlice with the bridge address where
// the testapp serves that version (started if needed). There are no Pods and
// no EndpointSlice controller: the harness writes the slice itself. Calling it
// again with another version repoints the Service.
func (c *Cluster) DeployVersion(ctx context.Context, namespace, service, version string) error {
	addr, err := c.serveVersion(ctx, version)
	if err != nil {
		return err
	}
	host, _, _ := net.SplitHostPort(addr)
	if err := ensureNamespace(ctx, c.Client, namespace); err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: service, Namespace: namespace,
			Labels: map[string]string{"app.kubernetes.io/version": version}},
		Spec: corev1.ServiceSpec{
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP,
				TargetPort: intstr.FromInt32(backendPort)}},
		},
	}
	if _, err := c.Client.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create Service %s/%s: %w", namespace, service, err)
		}
	}
	ready := true
	portName, port, proto := "http", int32(backendPort), corev1.ProtocolTCP
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: service + "-e2e", Namespace: namespace,
			Labels: map[string]string{
				discoveryv1.LabelServiceName: service,
				discoveryv1.LabelManagedBy:   "ingress-canary-e2e",
				"app.kubernetes.io/version":  version,
			}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{host},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
		}},
		Ports: []discoveryv1.EndpointPort{{Name: &portName, Port: &port, Protocol: &proto}},
	}
	slices := c.Client.DiscoveryV1().EndpointSlices(namespace)
	if _, err := slices.Create(ctx, slice, metav1.CreateOptions{}); err != nil {
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create EndpointSlice %s/%s: %w", namespace, slice.Name, err)
		}
		old, err := slices.Get(ctx, slice.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		slice.ResourceVersion = old.ResourceVersion
		if _, err := slices.Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update EndpointSlice %s/%s: %w", namespace, slice.Name, err)
		}
	}
	return nil
}

// SetBehavior makes version answer errorRate of its requests with 500 and
// delay every answer by latency, through the testapp's admin API.
func (c *Cluster) SetBehavior(version string, errorRate float64, latency time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.admin.SetBehavior(ctx, version, errorRate, latency)
}

// ensureNamespace creates namespace if it does not exist.
func ensureNamespace(ctx context.Context, cs kubernetes.Interface, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}
