package main

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
)

func TestContainerMemoryLimit(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name string
		fs   fstest.MapFS
		want int64
	}{
		{"cgroup v2 in a container", fstest.MapFS{
			"proc/self/cgroup":         file("0::/\n"),
			"sys/fs/cgroup/memory.max": file("134217728\n"),
		}, 128 << 20},
		{"cgroup v2 without a limit", fstest.MapFS{
			"proc/self/cgroup":         file("0::/\n"),
			"sys/fs/cgroup/memory.max": file("max\n"),
		}, 0},
		{"cgroup v2, the process's own cgroup on the host", fstest.MapFS{
			"proc/self/cgroup":                                file("0::/kubepods/pod1/ctr\n"),
			"sys/fs/cgroup/kubepods/pod1/ctr/memory.max":      file("100663296\n"),
			"sys/fs/cgroup/memory.max":                        file("max\n"),
			"sys/fs/cgroup/kubepods/pod1/ctr/memory.swap.max": file("0\n"),
		}, 96 << 20},
		{"cgroup v1", fstest.MapFS{
			"proc/self/cgroup":                           file("12:pids:/\n4:memory:/\n0::/\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes": file("268435456\n"),
		}, 256 << 20},
		{"cgroup v1 own path, unlimited", fstest.MapFS{
			"proc/self/cgroup": file("4:cpu,memory:/job\n"),
			"sys/fs/cgroup/memory/job/memory.limit_in_bytes": file("9223372036854771712\n"),
		}, 0},
		{"no cgroup file system", fstest.MapFS{}, 0},
		{"garbage", fstest.MapFS{
			"proc/self/cgroup":         file("nonsense"),
			"sys/fs/cgroup/memory.max": file("lots"),
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, containerMemoryLimit(tt.fs))
		})
	}
}
