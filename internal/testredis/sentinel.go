package testredis

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// MasterSet is the name the Sentinels of StartSentinel monitor.
const MasterSet = "wxauthtest"

// Sentinel is a primary and a replica watched by three Sentinels
// (quorum 2), which fail over within a few seconds of the primary's death.
type Sentinel struct {
	Primary, Replica *Server
	Sentinels        []*Server
	tb               testing.TB
}

// StartSentinel starts the primary, its replica and three Sentinels, and
// waits until the replica is in sync and every Sentinel knows the replica
// and the two other Sentinels (so a failover can be elected).
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	Need(tb, "redis-server")
	st := &Sentinel{tb: tb}
	// no diskless-sync delay (Redis 7 waits 5 s for more replicas)
	st.Primary = StartWith(tb, Options{Args: []string{"--repl-diskless-sync-delay", "0"}})
	st.Replica = StartWith(tb, Options{Args: []string{"--replicaof", "127.0.0.1", strconv.Itoa(st.Primary.Port)}})
	if !waitFor(15*time.Second, func() bool { return st.Replica.Info("master_link_status") == "up" }) {
		tb.Fatal("the replica did not sync with the primary in 15 s")
	}
	// each Sentinel knows the replica and the others from the start (as
	// in the config it rewrites), instead of finding them through the
	// hello messages it sends every 2 s
	ports := []int{FreePort(tb), FreePort(tb), FreePort(tb)}
	ids := make([]string, len(ports))
	for i := range ids {
		var b [20]byte
		_, _ = rand.Read(b[:])
		ids[i] = hex.EncodeToString(b[:]) // a Sentinel's run id
	}
	for i, port := range ports {
		conf := []string{
			"sentinel myid " + ids[i],
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", MasterSet, st.Primary.Port),
			fmt.Sprintf("sentinel down-after-milliseconds %s 1000", MasterSet),
			fmt.Sprintf("sentinel failover-timeout %s 5000", MasterSet),
			fmt.Sprintf("sentinel parallel-syncs %s 1", MasterSet),
			fmt.Sprintf("sentinel known-replica %s 127.0.0.1 %d", MasterSet, st.Replica.Port),
		}
		for j, other := range ports {
			if j != i {
				conf = append(conf, fmt.Sprintf("sentinel known-sentinel %s 127.0.0.1 %d %s", MasterSet, other, ids[j]))
			}
		}
		st.Sentinels = append(st.Sentinels, StartWith(tb, Options{Port: port, Sentinel: conf}))
	}
	ok := waitFor(30*time.Second, func() bool {
		for _, s := range st.Sentinels {
			if n := count(s.Do("SENTINEL", "SENTINELS", MasterSet)); n < 2 {
				return false
			}
			if n := count(s.Do("SENTINEL", "REPLICAS", MasterSet)); n < 1 {
				return false
			}
		}
		return true
	})
	if !ok {
		tb.Fatal("the Sentinels did not find each other and the replica in 30 s")
	}
	return st
}

func count(v any, err error) int {
	if err != nil {
		return -1
	}
	a, _ := v.([]any)
	return len(a)
}

// URL is the redis:// URL of the Sentinels with master_set.
func (st *Sentinel) URL() string {
	u := fmt.Sprintf("redis://%s?", st.Sentinels[0].Addr())
	for _, s := range st.Sentinels[1:] {
		u += "addr=" + s.Addr() + "&"
	}
	return u + "master_set=" + MasterSet
}

// WaitReplicated waits until the replica has everything the primary wrote.
func (st *Sentinel) WaitReplicated() {
	st.tb.Helper()
	ok := waitFor(15*time.Second, func() bool {
		want, err1 := strconv.ParseInt(st.Primary.Info("master_repl_offset"), 10, 64)
		got, err2 := strconv.ParseInt(st.Replica.Info("slave_repl_offset"), 10, 64)
		return err1 == nil && err2 == nil && got >= want
	})
	if !ok {
		st.tb.Fatal("the replica did not catch up with the primary in 15 s")
	}
}

// KillPrimary kills the primary and waits until the Sentinels have
// promoted the replica (it answers role:master), then returns it.
func (st *Sentinel) KillPrimary() *Server {
	st.tb.Helper()
	st.Primary.Stop()
	ok := waitFor(60*time.Second, func() bool {
		if st.Replica.Info("role") != "master" {
			return false
		}
		v, err := st.Sentinels[0].Do("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterSet)
		a, _ := v.([]any)
		return err == nil && len(a) == 2 && a[1] == strconv.Itoa(st.Replica.Port)
	})
	if !ok {
		st.tb.Fatal("the Sentinels did not promote the replica within 60 s of the primary's death")
	}
	return st.Replica
}
