package annotations

import "time"

// SpecKey is one user key, declared once: the parser, the README's annotation
// reference (readme_test.go) and the plugin's `start` flags all read it here.
type SpecKey struct {
	Name string
	// Default is the value used when the key is absent or empty, written as a
	// user would write it; "" when there is none.
	Default string
	// Unset says in words what an absent key means when there is no Default.
	Unset string
	// Doc is one line (Markdown) on what the key means.
	Doc string
	// StartFlag is the `kubectl canary start` flag that writes the key; "" for none.
	StartFlag string
	// parse reads the key (or its Default) into s. The routing keys have none of
	// their own: header's reads all four, because their rules span them.
	parse func(p *parser, k SpecKey, s *Spec)
}

// SpecKeys lists every user key, in the order of the documentation and of the
// parser's errors.
var SpecKeys = []SpecKey{
	{
		Name: KeyCanaryService, Unset: "none", StartFlag: "to",
		Doc:   "Service (same namespace) of the new version. Its presence opts the Ingress in; a value different from the stable Service starts a rollout",
		parse: func(p *parser, k SpecKey, s *Spec) { s.CanaryService = p.canaryService(k) },
	},
	{
		Name: KeyCanaryPort, Unset: "the stable backend's port", StartFlag: "port",
		Doc:   "port name or number on the canary Service",
		parse: func(p *parser, k SpecKey, s *Spec) { s.CanaryPort = p.port(k) },
	},
	{
		Name: KeyStableService, Unset: "the only Service the Ingress uses",
		Doc:   "which backend is replaced when the Ingress routes to several Services",
		parse: func(p *parser, k SpecKey, s *Spec) { s.StableService = p.optionalServiceName(k) },
	},
	{
		Name: KeyStrategy, Default: string(StrategyCanary), StartFlag: "strategy",
		Doc: "`canary` (weight steps) or `blue-green` (header/cookie preview and analysis at 0 %, then one switch to 100 %)",
		parse: func(p *parser, k SpecKey, s *Spec) {
			s.Strategy = Strategy(p.oneOf(k, string(StrategyCanary), string(StrategyBlueGreen)))
		},
	},
	{
		Name: KeySteps, Default: "5,10,25,50", StartFlag: "steps",
		Doc:   "strictly increasing weights in percent, `0 < w <= 100`, up to two decimals (`0.5,1,5,25,50`)",
		parse: func(p *parser, k SpecKey, s *Spec) { s.Steps = p.steps(k) },
	},
	{
		Name: KeyInterval, Default: "1m", StartFlag: "interval",
		Doc:   "shortest time a step lasts, even on conclusive evidence, and how often a holding step's status and forecast are refreshed (at least `1s`). A step lasts longer when its traffic has not yet shown the canary healthy; evidence of a regression rolls back at once",
		parse: func(p *parser, k SpecKey, s *Spec) { s.Interval = p.duration(k, MinInterval) },
	},
	{
		Name: KeyMaxStepDuration, Default: "2h", StartFlag: "max-step-duration",
		Doc:   "longest a step holds for evidence either way (at least `interval`); then `inconclusive` decides",
		parse: func(p *parser, k SpecKey, s *Spec) { s.Analysis.MaxStepDuration = p.atLeastInterval(k, s.Interval) },
	},
	{
		Name: KeyInconclusive, Default: string(InconclusiveFail), StartFlag: "inconclusive",
		Doc: "what a step does at `max-step-duration` without a verdict: `fail` (roll back) or `promote` (pass the step with a Warning \"inconclusive at this traffic\")",
		parse: func(p *parser, k SpecKey, s *Spec) {
			s.Analysis.Inconclusive = Inconclusive(p.oneOf(k, string(InconclusiveFail), string(InconclusivePromote)))
		},
	},
	{
		Name: KeyMaxErrorRate, Default: "1%", StartFlag: "max-error-rate",
		Doc:   "highest acceptable ratio of 5xx responses among canary requests: evidence of a higher rate rolls back, a rate shown below it passes a step (as does a rate shown no worse than stable's)",
		parse: func(p *parser, k SpecKey, s *Spec) { s.Analysis.MaxErrorRate = p.ratio(k) },
	},
	{
		Name: KeyMaxLatency, Unset: "none (latency not gated)", StartFlag: "max-latency",
		Doc:   "highest acceptable latency at `latency-quantile`, judged as the share of requests slower than it (more than 1 % for 0.99), counted from the latency histogram above its largest bucket bound at or below this value",
		parse: func(p *parser, k SpecKey, s *Spec) { s.Analysis.MaxLatency = p.duration(k, time.Millisecond) },
	},
	{
		Name: KeyLatencyQuantile, Default: "0.99",
		Doc:   "quantile for `max-latency`, strictly between 0 and 1",
		parse: func(p *parser, k SpecKey, s *Spec) { s.Analysis.LatencyQuantile = p.quantile(k) },
	},
	{
		Name: KeyMinRequests, Default: "50", StartFlag: "min-requests",
		Doc:   "canary requests a step needs before it may pass (at least 1); fewer holds the step. A regression is rolled back on its evidence, whatever the count",
		parse: func(p *parser, k SpecKey, s *Spec) { s.Analysis.MinRequests = p.integer(k, 1) },
	},
	{
		Name: KeyFailureLimit, Default: "0",
		Doc:   "failed analyses tolerated in one rollout before rollback; each one tolerated starts the evidence afresh",
		parse: func(p *parser, k SpecKey, s *Spec) { s.Analysis.FailureLimit = p.integer(k, 0) },
	},
	{
		Name: KeyNoDataLimit, Default: "10",
		Doc:   "consecutive looks (one per `interval`) without a measurement (Prometheus unreachable, or the data plane not splitting as asked) tolerated before the rollout fails. Too little traffic is no longer counted here: the step holds up to `max-step-duration`",
		parse: func(p *parser, k SpecKey, s *Spec) { s.Analysis.NoDataLimit = p.integer(k, 0) },
	},
	{
		Name: KeyHeader, Unset: "none",
		Doc:   "testers with this header are routed by it at every step (ingress-nginx `canary-by-header`: `always`/`never`)",
		parse: func(p *parser, _ SpecKey, s *Spec) { s.Routing = p.routing() },
	},
	{
		Name: KeyHeaderValue, Unset: "none",
		Doc: "route to the canary when `header` has exactly this value",
	},
	{
		Name: KeyHeaderPattern, Unset: "none",
		Doc: "route to the canary when `header` matches this regular expression",
	},
	{
		Name: KeyCookie, Unset: "none",
		Doc: "testers with this cookie set to `always` reach the canary (`canary-by-cookie`)",
	},
	{
		Name: KeyPromotion, Default: string(PromotionAuto), StartFlag: "promotion",
		Doc: "`auto`, or `manual`: wait at the last step (phase `Paused`) until `promote` is set",
		parse: func(p *parser, k SpecKey, s *Spec) {
			s.Promotion = Promotion(p.oneOf(k, string(PromotionAuto), string(PromotionManual)))
		},
	},
	{
		Name: KeyPromoteBy, Default: string(PromoteBySwitch),
		Doc: "`switch`: patch the primary's backend to the canary Service, then delete the canary Ingress. `weight`: never edit the primary's spec; hold 100 % until its stable Service is changed at the source",
		parse: func(p *parser, k SpecKey, s *Spec) {
			s.PromoteBy = PromoteBy(p.oneOf(k, string(PromoteBySwitch), string(PromoteByWeight)))
		},
	},
}

// CommandKey is one command key, declared once for the parser, the README and
// the order in which commands are reported.
type CommandKey struct {
	Name string
	// Doc is one line (Markdown) on what setting it to "true" does.
	Doc string
	// field is the flag of Commands the key sets.
	field func(c *Commands) *bool
}

// CommandKeys lists every command key, in the order of the documentation.
var CommandKeys = []CommandKey{
	{KeyPause, "hold the current weight (phase `Paused`)", func(c *Commands) *bool { return &c.Pause }},
	{KeyResume, "continue a paused rollout at the same step, with a new window", func(c *Commands) *bool { return &c.Resume }},
	{KeyAbort, "roll back now (works even while the other annotations are invalid)", func(c *Commands) *bool { return &c.Abort }},
	{KeyPromote, "promote now, skipping the remaining steps", func(c *Commands) *bool { return &c.Promote }},
	{KeyRetry, "start a failed rollout again from the first step", func(c *Commands) *bool { return &c.Retry }},
}
