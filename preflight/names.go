package preflight

const (
	// canarySuffix makes the companion canary Ingress's name.
	canarySuffix = "-canary"
	// LegacyClassAnnotation predates spec.ingressClassName and is still honoured by ingress-nginx.
	LegacyClassAnnotation = "kubernetes.io/ingress.class"
)

// CanaryName is the name of the canary Ingress of a primary.
func CanaryName(primary string) string { return primary + canarySuffix }

// KeeperName is the name of the Ingress that keeps a primary's old stable
// Service referenced across a promotion's switch (see weights.Traffic.KeepStable).
func KeeperName(primary string) string { return primary + canarySuffix + "-keep" }
