// Package cluster starts a real, local, throw-away Kubernetes test cluster for
// the end-to-end tests and the demo, without Docker:
//
//   - etcd 3.5, kube-apiserver and kube-controller-manager v1.36 (garbage
//     collector, service accounts and tokens, namespace deletion, root CA
//     publisher, cluster-role aggregation; no scheduler, no kubelet, so Pods
//     never run);
//   - the real ingress-nginx controller driving Debian's nginx with Lua;
//   - optionally Traefik v3.7 (Options.Routers), beside ingress-nginx or
//     instead of it, serving the same Ingresses of class nginx through its
//     kubernetesIngressNGINX provider, and optionally Gateway API routes
//     (Options.GatewayAPI); see "Traefik" below;
//   - Prometheus scraping ingress-nginx (and Traefik) every second;
//   - the project's test backend (e2e/testapp), which serves each application
//     version on its own address, published through selector-less Services and
//     hand-written EndpointSlices (see DeployVersion);
//   - optionally (Options.Node, see node.go), a real node so that Pods run: a
//     kubelet v1.36 on cgroup v1 (failCgroupV1: false, cgroupfs driver),
//     Debian's containerd 1.6 and runc, CNI's bridge plugin on 10.88.0.0/16,
//     kube-scheduler, and the controller-manager's Deployment, ReplicaSet,
//     EndpointSlice and disruption controllers. Images come from tarballs
//     (e2e/image), never from a registry.
//
// The binaries come from e2e/setup/setup.sh, which builds or installs them once
// into a cache outside the checkout (see Binaries).
//
// # Isolation
//
// Everything runs inside network, mount and PID namespaces that the harness
// creates (RunInSandbox for tests, SandboxCommand for other programs): the
// test process, every component and every backend. Inside, loopback is
// private, so ports are fixed; backends listen on addresses of a port-less
// bridge (10.203.0.0/24) because the apiserver rejects loopback endpoint
// addresses; no packet leaves the machine. ingress-nginx additionally gets its
// own mount namespace with overlays on /etc and /tmp, since it insists on
// /etc/nginx, /etc/ingress-controller and /tmp/nginx: the host's files are
// never touched. When the sandbox's first process exits, the kernel kills
// every process left in it, so an interrupted test leaves nothing running.
//
// # Use
//
//	func TestMain(m *testing.M) { os.Exit(cluster.RunInSandbox(m)) } // tests
//	func main() { os.Exit(cluster.Sandboxed(run)) }                  // other programs
//
//	c, err := cluster.Start(ctx, cluster.Options{Log: os.Stderr})
//	defer c.Stop()
//	c.DeployVersion(ctx, "demo", "web-v1", "v1") // Service web-v1 -> testapp version v1
//	c.SetBehavior("v2", 0.25, 100*time.Millisecond)
//	// create Ingresses with c.Client (or kubectl --kubeconfig c.Kubeconfig);
//	// send traffic to c.HTTPURL with the Host header set; query c.PrometheusURL.
//	p, err := c.StartProcess("controller", nil, bin, "--kubeconfig="+c.Kubeconfig)
//	c.AddScrapeTarget("controller", "127.0.0.1:8080")
//	c.StopPrometheus(); c.StartPrometheus() // an outage, same TSDB
//
// # Traefik
//
//	c, err := cluster.Start(ctx, cluster.Options{
//		Routers: []cluster.Router{cluster.RouterIngressNginx, cluster.RouterTraefik}, // both, same Ingresses
//	})
//	// send traffic to c.TraefikURL (and c.HTTPURL) with the Host header set
//
// Traefik runs out of cluster as an external API client (bearer token file
// and CA file), with its web entry point on c.TraefikURL and its metrics
// entry point on c.TraefikMetricsURL, scraped as job "traefik". Routers:
// []Router{RouterTraefik} runs no ingress-nginx process at all; HTTPURL is
// then empty. With GatewayAPI, the harness installs the standard Gateway API
// CRDs from the Go module cache and the GatewayClass GatewayClassName, and a
// Gateway's listener must use port TraefikGatewayPort.
//
// Traefik names a service in its metrics
// "<namespace>-<ingress>-<service>-<port>@kubernetesingressnginx" after the
// primary Ingress and its Service; the canary's is the same name with
// "-canary" before the "@", still the primary's names (as ingress-nginx
// labels canary-routed requests with the primary's ingress and service).
//
// Component logs are in WorkDir()/logs (see Logs); the work dir outlives Stop
// so a failed test can point at them.
//
// Starting takes about 7 s on 2 cores with warm caches; Stop about 2 s.
// Traefik adds about 0.3 s (it serves a new Ingress about 2 s after its
// creation), the Gateway API CRDs about 2.5 s.
package cluster
