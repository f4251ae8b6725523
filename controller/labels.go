package controller

// Labels and names the controller puts on what it creates.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "ingress-canary"
	// FieldManager names this controller in managedFields.
	FieldManager = "ingress-canary"
	// canarySuffix makes the companion canary Ingress's name.
	canarySuffix = "-canary"
	// legacyClassAnnotation predates spec.ingressClassName and is still honoured by ingress-nginx.
	legacyClassAnnotation = "kubernetes.io/ingress.class"
)

// CanaryName is the name of the canary Ingress of a primary.
func CanaryName(primary string) string { return primary + canarySuffix }
