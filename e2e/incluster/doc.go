// Package incluster holds the end-to-end test of deploy/ as it really runs:
// the controller's image, built without Docker (e2e/image), deployed with
// `kubectl apply -k overlay` as two Pods on a real node (e2e/cluster with
// Options.Node: kubelet, containerd, runc, CNI bridge), driving ingress-nginx
// through a rollout and handing the Lease over when the leader Pod goes.
package incluster
