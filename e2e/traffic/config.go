package traffic

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Defaults for the optional Config fields.
const (
	DefaultConcurrency = 1
	DefaultTimeout     = 5 * time.Second
)

// Config describes one bounded run.
type Config struct {
	// URL is where requests go, e.g. http://127.0.0.1:18080/.
	URL string
	// Host, when set, replaces the Host header (e.g. demo.local), so that nginx
	// picks the virtual host while the connection goes to URL's address.
	Host string
	// Header is added to every request, e.g. X-Canary: always. A Host entry
	// here is ignored by net/http; set Host instead.
	Header http.Header
	// Cookies are added to every request, e.g. canary=always.
	Cookies []*http.Cookie
	// RPS is the steady request rate per second; it must be above 0.
	RPS float64
	// Concurrency is how many requests may be in flight; 0 means DefaultConcurrency.
	Concurrency int
	// MaxRequests bounds the run in count; it must be above 0.
	MaxRequests int
	// MaxDuration bounds the run in time; it must be above 0. Requests in
	// flight when it ends may finish, within Timeout.
	MaxDuration time.Duration
	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration
}

// withDefaults returns a validated copy with the optional fields filled in.
func (c Config) withDefaults() (Config, error) {
	if err := c.validate(); err != nil {
		return c, err
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c, nil
}

func (c Config) validate() error {
	var errs []error
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("URL %q: want an absolute http or https URL, e.g. http://127.0.0.1:18080/", c.URL))
	}
	if !(c.RPS > 0) { // also rejects NaN
		errs = append(errs, fmt.Errorf("RPS %v: want a rate above 0", c.RPS))
	}
	if c.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("Concurrency %d: want 0 (default %d) or more", c.Concurrency, DefaultConcurrency))
	}
	if c.MaxRequests <= 0 {
		errs = append(errs, fmt.Errorf("MaxRequests %d: want a bound above 0", c.MaxRequests))
	}
	if c.MaxDuration <= 0 {
		errs = append(errs, fmt.Errorf("MaxDuration %v: want a bound above 0", c.MaxDuration))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("Timeout %v: want 0 (default %v) or more", c.Timeout, DefaultTimeout))
	}
	return errors.Join(errs...)
}
