package controller

// Labels and names the controller puts on what it creates.
const (
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "ingress-canary"
	// FieldManager names this controller in managedFields.
	FieldManager = "ingress-canary"
)
