// Package testapp is a real HTTP backend that plays the application versions
// (web-v1, web-v2, ...) behind ingress-nginx in the end-to-end tests and the demo.
//
// One Server serves several versions, each on its own listener, so that every
// version can be a separate Service endpoint while living in a single process.
// Each version answers any path and method with 200, the body "NAME\n" and the
// header X-Version: NAME, which is how the traffic generator tells versions apart.
//
// A version's Behavior (an injected error ratio and an added latency) can be
// changed while it runs, through the admin API (see AdminHandler and AdminClient),
// so a test can make the canary fail at a precise moment. Injected errors are
// deterministic: over any k consecutive requests at rate r, exactly k*r fail
// when k*r is a whole number, which lets tests compare counts exactly.
package testapp
