package testredis

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cluster is a Redis Cluster: primaries, each with its replicas if any.
type Cluster struct {
	// Nodes are every node, in the order they started.
	Nodes []*Server
	// Primaries are the nodes that served slots when the cluster formed;
	// Replicas[i] are the replicas of Primaries[i].
	Primaries []*Server
	Replicas  [][]*Server
}

// ClusterOptions shape StartClusterWith's cluster.
type ClusterOptions struct {
	// Primaries is how many nodes serve slots (at least 3).
	Primaries int
	// Replicas is how many replicas each primary has.
	Replicas int
	// NodeTimeout is cluster-node-timeout (default 2 s): how long a node
	// must be unreachable to count as failed, after which its replica
	// takes over.
	NodeTimeout time.Duration
}

// StartCluster starts n (at least 3) cluster-enabled servers, joins them
// with redis-cli --cluster create (slots spread evenly, no replicas) and
// waits until every node sees the cluster ok and all of its nodes.
func StartCluster(tb testing.TB, n int) *Cluster {
	tb.Helper()
	return StartClusterWith(tb, ClusterOptions{Primaries: n})
}

// StartClusterWith starts o.Primaries × (1 + o.Replicas) cluster-enabled
// servers and joins them with redis-cli --cluster create: slots spread
// evenly over the primaries, the replicas as redis-cli assigns them (read
// back from CLUSTER NODES). With replicas, the cluster keeps serving the
// slots it covers while a primary is down (cluster-require-full-coverage
// no), and a replica takes over however stale (replica validity factor
// 0). It waits until every node sees the cluster ok and every replica is
// in sync.
func StartClusterWith(tb testing.TB, o ClusterOptions) *Cluster {
	tb.Helper()
	Need(tb, "redis-server")
	Need(tb, "redis-cli")
	if o.Primaries < 3 {
		tb.Fatalf("a Redis Cluster needs at least 3 primaries, not %d", o.Primaries)
	}
	var extra []string
	if o.NodeTimeout > 0 {
		extra = append(extra, "--cluster-node-timeout", strconv.FormatInt(o.NodeTimeout.Milliseconds(), 10))
	}
	if o.Replicas > 0 {
		extra = append(extra, "--cluster-require-full-coverage", "no",
			"--cluster-replica-validity-factor", "0",
			"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0")
	}
	c := &Cluster{}
	args := []string{"--cluster", "create"}
	for i := 0; i < o.Primaries*(1+o.Replicas); i++ {
		s := StartWith(tb, Options{Cluster: true, Args: extra})
		c.Nodes = append(c.Nodes, s)
		args = append(args, s.Addr())
	}
	args = append(args, "--cluster-replicas", strconv.Itoa(o.Replicas), "--cluster-yes")
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
			if ranges, _ := v.([]any); len(ranges) < o.Primaries {
				return false
			}
		}
		return c.readTopology(o.Replicas)
	})
	if !ok {
		tb.Fatalf("the cluster of %d nodes did not become ok in 30 s: %s", len(c.Nodes), c.Nodes[0].infoCluster())
	}
	return c
}

// readTopology fills Primaries and Replicas from the first node's CLUSTER
// NODES; it reports whether every primary has its replicas, all in sync.
func (c *Cluster) readTopology(replicas int) bool {
	v, err := c.Nodes[0].Do("CLUSTER", "NODES")
	if err != nil {
		return false
	}
	text, _ := v.(string)
	byID := map[string]*Server{}
	type node struct{ id, master string }
	var primaries, replicaNodes []node
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return false
		}
		addr, _, _ := strings.Cut(f[1], "@")
		s := c.byAddr(addr)
		if s == nil {
			return false
		}
		byID[f[0]] = s
		switch {
		case strings.Contains(f[2], "master"):
			primaries = append(primaries, node{id: f[0]})
		case strings.Contains(f[2], "slave"):
			replicaNodes = append(replicaNodes, node{id: f[0], master: f[3]})
		}
	}
	c.Primaries, c.Replicas = nil, nil
	for _, p := range primaries {
		var rs []*Server
		for _, r := range replicaNodes {
			if r.master == p.id {
				if byID[r.id].Info("master_link_status") != "up" {
					return false
				}
				rs = append(rs, byID[r.id])
			}
		}
		if len(rs) != replicas {
			return false
		}
		c.Primaries = append(c.Primaries, byID[p.id])
		c.Replicas = append(c.Replicas, rs)
	}
	return true
}

func (c *Cluster) byAddr(addr string) *Server {
	for _, s := range c.Nodes {
		if s.Addr() == addr {
			return s
		}
	}
	return nil
}

func (s *Server) infoCluster() string {
	v, _ := s.Do("CLUSTER", "INFO")
	str, _ := v.(string)
	return str
}

// PrimaryOf returns the primary that serves key's hash slot, as the node
// ask (a live one) sees the cluster.
func (c *Cluster) PrimaryOf(ask *Server, key string) *Server {
	c.Nodes[0].tb.Helper()
	slot := ask.MustDo("CLUSTER", "KEYSLOT", key).(int64)
	for _, r := range ask.MustDo("CLUSTER", "SLOTS").([]any) {
		r := r.([]any)
		if r[0].(int64) <= slot && slot <= r[1].(int64) {
			p := r[2].([]any)
			return c.byAddr(fmt.Sprintf("%s:%d", p[0], p[1]))
		}
	}
	c.Nodes[0].tb.Fatalf("no node serves slot %d", slot)
	return nil
}

// ReplicasOf returns the replicas primary had when the cluster formed.
func (c *Cluster) ReplicasOf(primary *Server) []*Server {
	for i, p := range c.Primaries {
		if p == primary {
			return c.Replicas[i]
		}
	}
	return nil
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
