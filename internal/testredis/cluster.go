package testredis

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Cluster is a Redis Cluster of primaries without replicas.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts n (at least 3) cluster-enabled servers, joins them
// with redis-cli --cluster create (slots spread evenly, no replicas) and
// waits until every node sees the cluster ok and all of its nodes.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	Need(tb, "redis-server")
	Need(tb, "redis-cli")
	if n < 3 {
		tb.Fatalf("a Redis Cluster needs at least 3 primaries, not %d", n)
	}
	c := &Cluster{}
	args := []string{"--cluster", "create"}
	for i := 0; i < n; i++ {
		s := StartWith(tb, Options{Cluster: true})
		c.Nodes = append(c.Nodes, s)
		args = append(args, s.Addr())
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command("redis-cli", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	ok := waitFor(30*time.Second, func() bool {
		for _, s := range c.Nodes {
			if !strings.Contains(s.infoCluster(), "cluster_state:ok") {
				return false
			}
			v, err := s.Do("CLUSTER", "SLOTS")
			if err != nil {
				return false
			}
			ranges, _ := v.([]any)
			if len(ranges) < n {
				return false
			}
		}
		return true
	})
	if !ok {
		tb.Fatalf("the cluster of %d nodes did not become ok in 30 s: %s", n, c.Nodes[0].infoCluster())
	}
	return c
}

func (s *Server) infoCluster() string {
	v, _ := s.Do("CLUSTER", "INFO")
	str, _ := v.(string)
	return str
}

// URL is a redis:// URL naming every node (the first as host, the others
// as addr= parameters).
func (c *Cluster) URL() string {
	u := fmt.Sprintf("redis://%s", c.Nodes[0].Addr())
	for i, s := range c.Nodes[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + s.Addr()
	}
	return u
}
