package cluster

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Fixed ports: loopback inside the sandbox is private, so nothing collides.
const (
	etcdClientPort  = 2379
	etcdPeerPort    = 2380
	apiserverPort   = 6443
	kcmPort         = 10257
	prometheusPort  = 9090
	testappPort     = 9000 // admin API of the testapp process, on loopback
	backendPort     = 8080 // every version serves on BridgeAddr(i):backendPort
	nginxHTTPPort   = 18080
	nginxHTTPSPort  = 18443
	nginxStatusPort = 18246
	nginxStreamPort = 18247
	streamSinkPort  = 18248 // must match e2e/nginx/patchtemplate's -sink-port
	ingressHealthz  = 10254 // ingress-nginx /healthz and /metrics
	defaultSrvPort  = 18181
	profilerPort    = 18245
	internalLogPort = 18514
	// Traefik's entry points: web serves the Ingresses (and Gateways, whose
	// listener port must equal it), metrics serves /metrics and /ping.
	traefikHTTPPort    = 18070
	traefikMetricsPort = 18071
)

func (c *Cluster) startEtcd(ctx context.Context) error {
	peer := "http://127.0.0.1:" + strconv.Itoa(etcdPeerPort)
	client := "http://127.0.0.1:" + strconv.Itoa(etcdClientPort)
	p, err := startComponent("etcd", c.logPath("etcd"), nil, c.bins.Etcd,
		"--name=e2e", "--data-dir="+filepath.Join(c.dir, "etcd"),
		"--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer,
		"--initial-cluster=e2e="+peer,
		// a throw-away test store: durability buys nothing, fsync costs time
		"--unsafe-no-fsync", "--logger=zap", "--log-level=warn")
	if err != nil {
		return err
	}
	c.etcd = p
	return waitReady(ctx, p, 20*time.Second, expectStatus(client+"/health", "", 200))
}

func (c *Cluster) startAPIServer(ctx context.Context) error {
	p, err := startComponent("kube-apiserver", c.logPath("kube-apiserver"), nil, c.bins.KubeAPIServer,
		"--etcd-servers=http://127.0.0.1:"+strconv.Itoa(etcdClientPort),
		"--bind-address="+c.listenAddr(), "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(apiserverPort),
		"--tls-cert-file="+c.pki.serverCert, "--tls-private-key-file="+c.pki.serverKey,
		"--client-ca-file="+c.pki.caCert,
		"--token-auth-file="+c.pki.tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+c.pki.saKey,
		"--service-account-signing-key-file="+c.pki.saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		// 127.0.0.1 cannot be the kubernetes Service's endpoint; nothing needs it
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		"--v=0")
	if err != nil {
		return err
	}
	c.mu.Lock()
	stopped := c.stopped
	if !stopped {
		c.apiserver = p
	}
	c.mu.Unlock()
	if stopped {
		// Stop ran meanwhile (a RestartAPIServer racing it): this one is not
		// in its list, so stop it here.
		return errors.Join(errors.New("cluster stopped; kube-apiserver not restarted"), p.stop(10*time.Second))
	}
	return waitReady(ctx, p, 60*time.Second, expectStatus(c.apiURL()+"/readyz", c.pki.adminToken, 200))
}

// apiserverRestartGrace bounds how long RestartAPIServer waits for the old
// kube-apiserver to exit. On SIGTERM it closes its listener at once, then
// drains in-flight requests, the clients' open watches among them, which here
// took more than 10 s; past the grace it is SIGKILLed, as the kubelet does after
// terminationGracePeriodSeconds. Clients see the same outage either way: from
// the closed listener to the new server's /readyz.
const apiserverRestartGrace = 2 * time.Second

// RestartAPIServer stops kube-apiserver (SIGTERM, then SIGKILL after
// apiserverRestartGrace) and starts it again with the same flags on the same
// etcd, and returns once it answers /readyz. Objects and resourceVersions
// survive (etcd keeps running); clients reconnect by themselves, and watches
// resume or relist.
func (c *Cluster) RestartAPIServer(ctx context.Context) error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return errors.New("cluster stopped; not restarting kube-apiserver")
	}
	old := c.apiserver
	c.apiserver = nil
	c.mu.Unlock()
	t0 := time.Now()
	if err := old.stop(apiserverRestartGrace); err != nil {
		return fmt.Errorf("stop kube-apiserver: %w", err)
	}
	stopped := time.Since(t0)
	if err := c.startAPIServer(ctx); err != nil {
		return fmt.Errorf("restart kube-apiserver: %w", err)
	}
	c.logf("kube-apiserver restarted: stopped in %.2fs, ready again %.2fs after the stop began", stopped.Seconds(), time.Since(t0).Seconds())
	return nil
}

// controllers are the kube-controller-manager controllers the e2e tests rely
// on: ownerReference garbage collection, default ServiceAccounts and their
// tokens, real namespace deletion, the kube-root-ca.crt ConfigMap and
// aggregated ClusterRoles (admin/edit/view).
var controllers = []string{
	"garbage-collector-controller", "serviceaccount-controller", "serviceaccount-token-controller",
	"namespace-controller", "root-ca-certificate-publisher-controller", "clusterrole-aggregation-controller",
}

// nodeControllers are the controllers a node's workloads need besides:
// Deployments, their ReplicaSets, Services' EndpointSlices, PDBs, the
// collection of Pods of a deleted node, and node lifecycle (the kubelet
// registers its Node with the not-ready NoSchedule taint; this controller
// lifts it once the Node is Ready).
var nodeControllers = []string{
	"deployment-controller", "replicaset-controller", "endpointslice-controller",
	"disruption-controller", "pod-garbage-collector-controller", "node-lifecycle-controller",
}

func (c *Cluster) controllers() []string {
	if c.withNode {
		return append(append([]string{}, controllers...), nodeControllers...)
	}
	return controllers
}

// listenAddr is where the apiserver and Prometheus listen: loopback, or
// every address of the sandbox when Pods on the node (NodeIP) need them.
func (c *Cluster) listenAddr() string {
	if c.withNode {
		return "0.0.0.0"
	}
	return "127.0.0.1"
}

func (c *Cluster) startControllerManager(ctx context.Context) error {
	p, err := startComponent("kube-controller-manager", c.logPath("kube-controller-manager"), nil,
		c.bins.KubeControllerManager,
		"--kubeconfig="+c.Kubeconfig,
		"--authentication-kubeconfig="+c.Kubeconfig,
		"--authorization-kubeconfig="+c.Kubeconfig,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(kcmPort),
		"--cert-dir="+filepath.Join(c.dir, "kcm-certs"),
		"--controllers="+strings.Join(c.controllers(), ","),
		"--service-account-private-key-file="+c.pki.saKey,
		"--root-ca-file="+c.pki.caCert,
		"--use-service-account-credentials=false",
		"--leader-elect=false",
		"--v=0")
	if err != nil {
		return err
	}
	c.kcm = p
	return waitReady(ctx, p, 30*time.Second,
		expectStatus(fmt.Sprintf("https://127.0.0.1:%d/healthz", kcmPort), c.pki.adminToken, 200))
}

func (c *Cluster) apiURL() string { return "https://127.0.0.1:" + strconv.Itoa(apiserverPort) }
