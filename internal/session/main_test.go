package session

import (
	"os"
	"runtime"
	"testing"

	"github.com/wechat-auth/wechat_auth/internal/testharness"
)

// minParallel is how many parallel tests run at once unless -parallel
// says otherwise. go test's default, GOMAXPROCS, suits tests that compute;
// the parallel tests here mostly wait, on redis-server processes (a
// Cluster forming, a failover) and on TTLs running out, so all of them
// wait at once. (The tests that mostly compute, such as the concurrency
// and near-cache load tests and the TLS handshakes, are not parallel:
// they run first, alone.)
const minParallel = 16

func TestMain(m *testing.M) {
	testharness.QuickExit()
	testharness.Parallel(max(minParallel, runtime.GOMAXPROCS(0)))
	os.Exit(m.Run())
}
