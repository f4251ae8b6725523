package cluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Names of the ingress-nginx objects; tests may read them.
const (
	IngressNamespace    = "ingress-nginx"
	IngressPodName      = "ingress-nginx-controller"
	IngressConfigMap    = "ingress-nginx-controller"
	IngressClassName    = "nginx"
	IngressControllerID = "k8s.io/ingress-nginx"
)

// ingressMounts runs in ingress-nginx's own mount namespace before the
// controller starts: overlays on /etc and /tmp whose upper layers live on a
// tmpfs in the cluster's work dir, so that the controller gets the /etc/nginx,
// /etc/ingress-controller and /tmp/nginx it insists on while the host's files
// (and the rest of the sandbox) never see them. /etc is overlaid first: after
// /tmp is, paths under /tmp show only what the lower layer had.
const ingressMounts = `set -eu
mount -t tmpfs -o mode=0700 tmpfs "$IC_NS_DIR"
mkdir -p "$IC_NS_DIR/etc/upper" "$IC_NS_DIR/etc/work" "$IC_NS_DIR/tmp/upper" "$IC_NS_DIR/tmp/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$IC_NS_DIR/etc/upper,workdir=$IC_NS_DIR/etc/work" /etc
mkdir -p /etc/nginx
cp -r "$IC_NGINX_PAYLOAD/." /etc/nginx/
mkdir -p /etc/ingress-controller/ssl /etc/ingress-controller/auth /etc/ingress-controller/geoip /etc/ingress-controller/telemetry
mount -t overlay overlay -o "lowerdir=/tmp,upperdir=$IC_NS_DIR/tmp/upper,workdir=$IC_NS_DIR/tmp/work" /tmp
mkdir -p /tmp/nginx
# Debian's nginx has compiled-in defaults under /var/lib/nginx and
# /var/log/nginx; whatever lands there stays private too.
for d in /var/lib/nginx /var/log/nginx; do
  if [ -d "$d" ]; then mount -t tmpfs -o mode=0755 tmpfs "$d"; fi
done
exec "$@"
`

// createIngressClass creates the IngressClass nginx of controller
// k8s.io/ingress-nginx. Every router needs it: Traefik's kubernetesIngressNGINX
// provider, by default, serves the Ingresses of the classes of that controller.
func (c *Cluster) createIngressClass(ctx context.Context) error {
	class := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: IngressClassName},
		Spec:       networkingv1.IngressClassSpec{Controller: IngressControllerID},
	}
	if _, err := c.Client.NetworkingV1().IngressClasses().Create(ctx, class, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// createIngressObjects creates what the controller reads at start, besides
// the IngressClass: its namespace, the Pod object named by POD_NAME (it never
// runs: there is no kubelet; creating it needs the default ServiceAccount,
// made by the controller-manager) and the ConfigMap.
func (c *Cluster) createIngressObjects(ctx context.Context) error {
	cs := c.Client
	if err := ensureNamespace(ctx, cs, IngressNamespace); err != nil {
		return err
	}
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true,
		func(ctx context.Context) (bool, error) {
			_, err := cs.CoreV1().ServiceAccounts(IngressNamespace).Get(ctx, "default", metav1.GetOptions{})
			return err == nil, nil
		})
	if err != nil {
		return fmt.Errorf("default ServiceAccount in %s never appeared (kube-controller-manager: %s): %w",
			IngressNamespace, c.logPath("kube-controller-manager"), err)
	}
	never := false
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: IngressPodName, Namespace: IngressNamespace,
			Labels: map[string]string{"app.kubernetes.io/name": "ingress-nginx"}},
		Spec: corev1.PodSpec{
			NodeName:                     "local",
			AutomountServiceAccountToken: &never,
			Containers:                   []corev1.Container{{Name: "controller", Image: "local/ingress-nginx"}},
		},
	}
	if _, err := cs.CoreV1().Pods(IngressNamespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: IngressConfigMap, Namespace: IngressNamespace},
		Data: map[string]string{
			// the template's `http2 on;` needs nginx >= 1.25.1; Debian has 1.22
			"use-http2":        "false",
			"worker-processes": "1",
			"access-log-path":  "/dev/stdout",
			"error-log-path":   "/dev/stderr",
			// old workers keep idle keep-alive connections after a reload or
			// stop for up to this long (default 240s)
			"worker-shutdown-timeout": "5s",
		},
	}
	if _, err := cs.CoreV1().ConfigMaps(IngressNamespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

func (c *Cluster) startIngressNginx(ctx context.Context) error {
	nsDir := filepath.Join(c.dir, "ingress-nginx-ns")
	if err := mkdirs(nsDir); err != nil {
		return err
	}
	port := func(flag string, p int) string { return "--" + flag + "=" + strconv.Itoa(p) }
	argv := []string{
		"unshare", "--mount", "--propagation", "private", "--",
		"/bin/sh", "-c", ingressMounts, "ingress-mounts",
		c.bins.IngressNginx,
		"--kubeconfig=" + c.Kubeconfig,
		"--configmap=" + IngressNamespace + "/" + IngressConfigMap,
		"--controller-class=" + IngressControllerID,
		"--ingress-class=" + IngressClassName,
		"--election-id=ingress-nginx-leader",
		"--update-status=false",          // no Service/LoadBalancer to publish
		"--post-shutdown-grace-period=0", // default 10 s: nothing to drain in a test
		port("http-port", nginxHTTPPort), port("https-port", nginxHTTPSPort),
		port("status-port", nginxStatusPort), port("stream-port", nginxStreamPort),
		port("healthz-port", ingressHealthz), port("default-server-port", defaultSrvPort),
		port("profiler-port", profilerPort),
		"--internal-logger-address=127.0.0.1:" + strconv.Itoa(internalLogPort),
		"--v=1",
	}
	env := []string{
		"IC_NS_DIR=" + nsDir,
		"IC_NGINX_PAYLOAD=" + c.bins.NginxPayload,
		"POD_NAME=" + IngressPodName,
		"POD_NAMESPACE=" + IngressNamespace,
		"NGINX_BINARY=" + c.bins.Nginx,
	}
	p, err := startComponent("ingress-nginx", c.logPath("ingress-nginx"), env, argv...)
	if err != nil {
		return err
	}
	c.ingress = p
	// Ready when the controller's health check (which asks nginx) passes and
	// nginx answers on the HTTP port: 404 from the default server.
	healthz := fmt.Sprintf("http://127.0.0.1:%d/healthz", ingressHealthz)
	if err := waitReady(ctx, p, 60*time.Second, expectStatus(healthz, "", 200)); err != nil {
		return err
	}
	return waitReady(ctx, p, 30*time.Second, expectStatus(c.HTTPURL+"/", "", 404))
}

// startStreamSink accepts and discards the controller's TCP/UDP configuration
// pushes, which the patched template's Lua-free stream server forwards here.
func (c *Cluster) startStreamSink() error {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(streamSinkPort))
	if err != nil {
		return fmt.Errorf("stream sink: %w", err)
	}
	c.sink = l
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return // closed by Stop
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				_, _ = io.Copy(io.Discard, io.LimitReader(conn, 64<<20))
			}()
		}
	}()
	return nil
}
