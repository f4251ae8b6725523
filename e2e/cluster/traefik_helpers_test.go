package cluster_test

import (
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingress-canary/ingress-canary/e2e/cluster"
)

// hit makes one request to base (a router's entry point on loopback) for
// hostname with the given headers and returns the X-Version that answered.
func hit(base, hostname, method string, headers map[string]string) (string, int, error) {
	req, err := http.NewRequest(method, base+"/", nil)
	if err != nil {
		return "", 0, err
	}
	req.Host = hostname
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	return resp.Header.Get("X-Version"), resp.StatusCode, nil
}

// hitMany sends n requests (bounded to a minute) and counts answers by
// version; non-200 answers count under "status NNN", failures under "error".
func hitMany(base, hostname, method string, headers map[string]string, n int) map[string]int {
	counts := map[string]int{}
	deadline := time.Now().Add(time.Minute)
	for i := 0; i < n && time.Now().Before(deadline); i++ {
		v, code, err := hit(base, hostname, method, headers)
		switch {
		case err != nil:
			counts["error"]++
		case code != 200:
			counts["status "+strconv.Itoa(code)]++
		default:
			counts[v]++
		}
	}
	return counts
}

// ingressFor is a Prefix / Ingress of class nginx in namespace for hostname.
func ingressFor(namespace, name, hostname, service string, annotations map[string]string) *networkingv1.Ingress {
	ing := ingress(name, service, annotations)
	ing.Namespace = namespace
	ing.Spec.Rules[0].Host = hostname
	return ing
}

// scrapeFamilies reads a /metrics page in the text format.
func scrapeFamilies(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := httpClient.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(io.LimitReader(resp.Body, 32<<20))
}

// histogramShape returns the label names and the bucket upper bounds of the
// histogram family's series whose labels match.
func histogramShape(t *testing.T, f *dto.MetricFamily, match func(map[string]string) bool) (labels, buckets []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range f.GetMetric() {
		ls := map[string]string{}
		for _, l := range m.GetLabel() {
			ls[l.GetName()] = l.GetValue()
		}
		if !match(ls) || m.GetHistogram() == nil {
			continue
		}
		for n := range ls {
			if !seen[n] {
				seen[n] = true
				labels = append(labels, n)
			}
		}
		if buckets == nil {
			for _, b := range m.GetHistogram().GetBucket() {
				buckets = append(buckets, strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64))
			}
		}
	}
	sort.Strings(labels)
	return labels, buckets
}

// procNamed reports the processes whose command name contains part.
func procNamed(part string) []string {
	var out []string
	for _, p := range cluster.OtherProcesses() {
		if strings.Contains(p, part) {
			out = append(out, p)
		}
	}
	return out
}
