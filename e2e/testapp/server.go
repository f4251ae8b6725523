package testapp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

var (
	// ErrConflict means the version name is already served on another address.
	ErrConflict = errors.New("version already served on another address")
	// ErrUnknownVersion means no version of that name is served.
	ErrUnknownVersion = errors.New("unknown version")
	// ErrClosed means the Server has been shut down.
	ErrClosed = errors.New("server is shut down")

	errBadName = errors.New("want letters, digits, '.', '_' or '-', at most 63")
)

// validName keeps names safe to use in a URL path, a header and a log line.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// Server serves any number of versions, each on its own listener. The zero
// value is not usable; call NewServer. All methods are safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	versions map[string]*version
	closed   bool
	running  sync.WaitGroup // one per version's Serve loop
}

// NewServer returns a Server that serves no version yet.
func NewServer() *Server {
	return &Server{versions: map[string]*version{}}
}

// Serve starts serving version name on addr and returns the bound address
// (useful with port 0). Asking again for the same name and address is a no-op;
// the same name on another address is ErrConflict.
func (s *Server) Serve(name, addr string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("version name %q: %w", name, errBadName)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", ErrClosed
	}
	if v, ok := s.versions[name]; ok {
		if addr == v.listen || addr == v.addr {
			return v.addr, nil
		}
		return "", fmt.Errorf("version %q on %s, asked for %s: %w", name, v.addr, addr, ErrConflict)
	}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("version %q: listen on %s: %w", name, addr, err)
	}
	v := &version{name: name, listen: addr, addr: listener.Addr().String()}
	// ReadHeaderTimeout bounds slow clients; handlers themselves are bounded by latency.
	v.server = &http.Server{Handler: v, ReadHeaderTimeout: 10 * time.Second}
	s.versions[name] = v
	s.running.Go(func() {
		// Serve returns ErrServerClosed on Shutdown, the only way it ends in
		// practice; there is nobody to report other errors to at that point.
		_ = v.server.Serve(listener)
	})
	return v.addr, nil
}

// SetErrorRate changes the injected error ratio of a served version.
func (s *Server) SetErrorRate(name string, rate float64) error {
	if err := validateErrorRate(rate); err != nil {
		return err
	}
	v, err := s.lookup(name)
	if err != nil {
		return err
	}
	v.setErrorRate(rate)
	return nil
}

// SetLatency changes the added latency of a served version.
func (s *Server) SetLatency(name string, latency time.Duration) error {
	if err := validateLatency(latency); err != nil {
		return err
	}
	v, err := s.lookup(name)
	if err != nil {
		return err
	}
	v.setLatency(latency)
	return nil
}

// SetBehavior changes both the error ratio and the latency of a served version.
func (s *Server) SetBehavior(name string, b Behavior) error {
	if err := b.Validate(); err != nil {
		return err
	}
	v, err := s.lookup(name)
	if err != nil {
		return err
	}
	v.setErrorRate(b.ErrorRate)
	v.setLatency(b.Latency)
	return nil
}

// Versions lists the served versions, sorted by name.
func (s *Server) Versions() []VersionInfo {
	s.mu.Lock()
	all := make([]*version, 0, len(s.versions))
	for _, v := range s.versions {
		all = append(all, v)
	}
	s.mu.Unlock()
	infos := make([]VersionInfo, 0, len(all))
	for _, v := range all {
		infos = append(infos, v.info())
	}
	slices.SortFunc(infos, func(a, b VersionInfo) int { return strings.Compare(a.Name, b.Name) })
	return infos
}

// Shutdown stops every version: listeners close at once, requests in flight
// may finish until ctx ends, then the rest are cut. It returns when every
// Serve loop has ended, so no goroutine outlives it.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	servers := make([]*http.Server, 0, len(s.versions))
	for _, v := range s.versions {
		servers = append(servers, v.server)
	}
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err, srv.Close())
		}
	}
	s.running.Wait()
	return errors.Join(errs...)
}

func (s *Server) lookup(name string) (*version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.versions[name]
	if !ok {
		return nil, fmt.Errorf("version %q: %w", name, ErrUnknownVersion)
	}
	return v, nil
}
