package annotations

import "strconv"

// NginxKeys are the ingress-nginx annotations the controller owns on a canary Ingress.
var NginxKeys = []string{
	NginxCanary, NginxCanaryWeight, NginxCanaryWeightTotal, NginxCanaryByHeader,
	NginxCanaryByHeaderValue, NginxCanaryByHeaderPat, NginxCanaryByCookie,
}

// Render returns the ingress-nginx annotations of the canary Ingress at weight w.
// Unset routing keys are left out; callers that patch remove the other NginxKeys,
// so a header or cookie the user has since taken away also disappears.
func Render(r Routing, w Weight) map[string]string {
	out := map[string]string{
		NginxCanary:            "true",
		NginxCanaryWeight:      strconv.Itoa(int(w)),
		NginxCanaryWeightTotal: strconv.Itoa(WeightTotal),
	}
	set := func(key, value string) {
		if value != "" {
			out[key] = value
		}
	}
	set(NginxCanaryByHeader, r.Header)
	set(NginxCanaryByHeaderValue, r.HeaderValue)
	set(NginxCanaryByHeaderPat, r.HeaderPattern)
	set(NginxCanaryByCookie, r.Cookie)
	return out
}
