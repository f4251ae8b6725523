package main

import (
	"bufio"
	"io/fs"
	"os"
	"path"
	"runtime/debug"
	"strconv"
	"strings"

	"go.uber.org/zap"
)

// applyMemoryLimit sets the Go runtime's soft memory limit to ratio times the
// container's memory limit, as Prometheus's --auto-gomemlimit does. Without it
// the garbage collector lets the heap grow to twice what is live, which at
// 10,000 Ingresses is more than a 128Mi limit: the kernel would kill the
// process first. GOMEMLIMIT, when set, wins; a ratio of 0 turns this off.
func applyMemoryLimit(log *zap.Logger, ratio float64, sys fs.FS) {
	if env := os.Getenv("GOMEMLIMIT"); env != "" || ratio <= 0 {
		return
	}
	limit := containerMemoryLimit(sys)
	if limit <= 0 {
		log.Debug("no container memory limit found; the Go memory limit stays unset")
		return
	}
	soft := int64(float64(limit) * ratio)
	debug.SetMemoryLimit(soft)
	log.Info("Go memory limit set from the container's", zap.Int64("containerLimitBytes", limit), zap.Int64("goMemLimitBytes", soft))
}

// containerMemoryLimit reads the memory limit of the process's own cgroup,
// v2 (memory.max) or v1 (memory.limit_in_bytes), from sys, the root file
// system (os.DirFS("/") in production). It returns 0 when there is none. In a
// container the cgroup file system is usually the container's own, mounted at
// its root; otherwise the path /proc/self/cgroup names leads to it.
func containerMemoryLimit(sys fs.FS) int64 {
	v2, v1 := cgroupPaths(sys)
	candidates := []string{
		path.Join("sys/fs/cgroup", v2, "memory.max"),
		"sys/fs/cgroup/memory.max",
		path.Join("sys/fs/cgroup/memory", v1, "memory.limit_in_bytes"),
		"sys/fs/cgroup/memory/memory.limit_in_bytes",
	}
	for _, p := range candidates {
		b, err := fs.ReadFile(sys, p)
		if err != nil {
			continue
		}
		return parseLimit(strings.TrimSpace(string(b)))
	}
	return 0
}

// parseLimit reads a cgroup limit: "max" (v2) or a page-rounded 2^63 (v1)
// mean none.
func parseLimit(v string) int64 {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n >= 1<<62 {
		return 0
	}
	return n
}

// cgroupPaths returns the process's cgroup v2 path and its v1 memory
// controller's path, from /proc/self/cgroup.
func cgroupPaths(sys fs.FS) (v2, v1 string) {
	f, err := sys.Open("proc/self/cgroup")
	if err != nil {
		return "", ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// hierarchy-ID:controller-list:path
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case strings.Contains(","+parts[1]+",", ",memory,"):
			v1 = parts[2]
		}
	}
	return strings.TrimPrefix(v2, "/"), strings.TrimPrefix(v1, "/")
}
