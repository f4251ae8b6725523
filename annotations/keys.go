package annotations

// Prefix is the annotation prefix of every key this project reads or writes.
const Prefix = "ingress-canary.dev/"

// User keys: the rollout's specification, written by a person or GitOps. SpecKeys
// says what each means, its default and how it is parsed.
const (
	KeyCanaryService   = Prefix + "canary-service"
	KeyCanaryPort      = Prefix + "canary-port"
	KeyStableService   = Prefix + "stable-service"
	KeyStrategy        = Prefix + "strategy"
	KeySteps           = Prefix + "steps"
	KeyInterval        = Prefix + "interval"
	KeyMaxStepDuration = Prefix + "max-step-duration"
	KeyInconclusive    = Prefix + "inconclusive"
	KeyMaxErrorRate    = Prefix + "max-error-rate"
	KeyMaxLatency      = Prefix + "max-latency"
	KeyLatencyQuantile = Prefix + "latency-quantile"
	KeyMinRequests     = Prefix + "min-requests"
	KeyFailureLimit    = Prefix + "failure-limit"
	KeyNoDataLimit     = Prefix + "no-data-limit"
	KeyHeader          = Prefix + "header"
	KeyHeaderValue     = Prefix + "header-value"
	KeyHeaderPattern   = Prefix + "header-pattern"
	KeyCookie          = Prefix + "cookie"
	KeyPromotion       = Prefix + "promotion"
	KeyPromoteBy       = Prefix + "promote-by"
)

// Command keys: one-shot requests that the controller removes once acted on.
// CommandKeys says what each does.
const (
	KeyPause   = Prefix + "pause"
	KeyResume  = Prefix + "resume"
	KeyAbort   = Prefix + "abort"
	KeyPromote = Prefix + "promote"
	KeyRetry   = Prefix + "retry"
)

// KeyStatus is the controller's own status annotation on the primary Ingress.
const KeyStatus = Prefix + "status"

// ingress-nginx's canary annotations, written on the canary Ingress only.
const (
	NginxPrefix              = "nginx.ingress.kubernetes.io/"
	NginxCanary              = NginxPrefix + "canary"
	NginxCanaryWeight        = NginxPrefix + "canary-weight"
	NginxCanaryWeightTotal   = NginxPrefix + "canary-weight-total"
	NginxCanaryByHeader      = NginxPrefix + "canary-by-header"
	NginxCanaryByHeaderValue = NginxPrefix + "canary-by-header-value"
	NginxCanaryByHeaderPat   = NginxPrefix + "canary-by-header-pattern"
	NginxCanaryByCookie      = NginxPrefix + "canary-by-cookie"
)
