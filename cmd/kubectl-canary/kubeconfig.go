package main

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	gwclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"
)

// connect loads the kubeconfig as kubectl does, through the global flags:
// --kubeconfig, else $KUBECONFIG, else ~/.kube/config, with --context,
// --namespace, --as, --token and the other overrides. The namespace is
// --namespace, else the context's, else "default".
func connect(g globalOptions) (kubernetes.Interface, string, error) {
	loader := g.kube.ToRawKubeConfigLoader()
	namespace, _, err := loader.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	if namespace == "" {
		namespace = "default"
	}
	cfg, err := g.kube.ToRESTConfig()
	if err != nil {
		return nil, "", fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.UserAgent = "kubectl-canary"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, "", err
	}
	return client, namespace, nil
}

// connectRoutes is connect's Gateway API client, in JSON: custom resources
// have no protobuf.
func connectRoutes(g globalOptions) (gwclient.Interface, error) {
	cfg, err := g.kube.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	cfg.UserAgent = "kubectl-canary"
	return gwclient.NewForConfig(cfg)
}
