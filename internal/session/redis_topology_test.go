package session

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"

	"github.com/wechat-auth/wechat_auth/internal/testredis"
)

// A three-node Redis Cluster: users spread over the nodes, and every
// operation (scripts included) works, each on its user's node.
func TestRedisCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := testredis.StartCluster(t, 3)
	a := newRedisStore(t, cl.URL(), Limits{})
	b := newRedisStore(t, cl.URL(), Limits{})
	if c, err := a.ready(); err != nil || c.Mode() != rueidis.ClientModeCluster {
		t.Fatalf("not in Cluster mode: %v", err)
	}
	type user struct {
		openID string
		tokens []string
	}
	var users []user
	for i := 0; i < 30; i++ {
		u := user{openID: fmt.Sprintf("o-user%02d", i)}
		for j := 0; j < 2; j++ {
			tok, _ := rlogin(t, a, u.openID, skey(i))
			u.tokens = append(u.tokens, tok)
		}
		users = append(users, u)
	}
	// the keys are on more than one node
	spread := 0
	for _, n := range cl.Nodes {
		if n.MustDo("DBSIZE").(int64) > 0 {
			spread++
		}
	}
	if spread < 2 {
		t.Fatalf("30 users' keys are on %d of 3 nodes", spread)
	}
	for _, u := range users {
		for _, tok := range u.tokens {
			if s := rmustGet(t, b, tok); s.OpenID != u.openID {
				t.Fatalf("Get through another store: %+v", s)
			}
		}
	}
	u := users[7]
	if err := b.BindPhone(ctx, u.tokens[0], u.openID, "13800138000", "86"); err != nil {
		t.Fatal(err)
	}
	if _, s := rlogin(t, b, u.openID, skey(7)); s.Phone != "13800138000" {
		t.Fatalf("phone through the Cluster: %+v", s)
	}
	if k, _, err := b.UserKeys(ctx, u.openID); err != nil || k != skey(7) {
		t.Fatalf("UserKeys: %q %v", k, err)
	}
	cached(t, a, u.tokens[1])
	n, err := b.RevokeUser(ctx, u.openID, false)
	if err != nil || n != 3 {
		t.Fatalf("RevokeUser in the Cluster = %d, %v; want 3", n, err)
	}
	changed := time.Now()
	untilGone(t, a, u.tokens[1], changed, gone)
	wantNotFound(t, a, u.tokens[0], "revoked")
	cached(t, b, users[8].tokens[0])
	if err := a.Delete(ctx, users[8].tokens[0]); err != nil {
		t.Fatal(err)
	}
	changed = time.Now()
	wantNotFound(t, a, users[8].tokens[0], "deleted by the same store")
	untilGone(t, b, users[8].tokens[0], changed, gone)
}

// Three primaries with a replica each; one primary dies: logins on the
// other slots work throughout the failover, the sessions of its slots
// come back once its replica is promoted (phone included), and a store
// never serves from its near cache a session another store ended after
// the failover, whether it cached it before the failover or after.
func TestRedisClusterFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	began := time.Now()
	cl := testredis.StartClusterWith(t, testredis.ClusterOptions{Primaries: 3, Replicas: 1, NodeTimeout: time.Second})
	t.Logf("six nodes up, replicas in sync, in %v", time.Since(began))
	fast := func(o *RedisOptions) { o.Timeout = 500 * time.Millisecond }
	a := newRedisStore(t, cl.URL(), Limits{}, fast)
	b := newRedisStore(t, cl.URL(), Limits{}, fast)
	victim, live := cl.Primaries[0], cl.Primaries[1]
	replica := cl.ReplicasOf(victim)[0]
	var onVictim, elsewhere []string // openids by where their slot is
	for i := 0; len(onVictim) < 4 || len(elsewhere) < 20; i++ {
		id := fmt.Sprintf("o-user%03d", i)
		if cl.PrimaryOf(live, a.keys.userKey(id)) == victim {
			onVictim = append(onVictim, id)
		} else {
			elsewhere = append(elsewhere, id)
		}
	}
	var old []string
	for i, id := range onVictim {
		tok, _ := rlogin(t, a, id, skey(i))
		old = append(old, tok)
	}
	if err := a.BindPhone(ctx, old[0], onVictim[0], "13800138000", "86"); err != nil {
		t.Fatal(err)
	}
	cached(t, a, old[1]) // stays in a's near cache from before the failover
	if n := victim.MustDo("WAIT", "1", "5000").(int64); n != 1 {
		t.Fatalf("WAIT: %d replicas have the writes", n)
	}
	// (WAIT on testredis's connection, which wrote nothing, returns at
	// once: the store's writes are in the replica once its offset has
	// reached the primary's)
	wrote := victim.Info("master_repl_offset")
	waitFor(t, 10*time.Second, "the replica to have the writes", func() bool {
		want, err1 := strconv.ParseInt(wrote, 10, 64)
		got, err2 := strconv.ParseInt(replica.Info("slave_repl_offset"), 10, 64)
		return err1 == nil && err2 == nil && got >= want
	})

	killed := time.Now()
	victim.Stop()
	// until the old sessions are back: logins on the other slots work
	// (through a, read back through b), the old sessions fail as
	// unavailable, never as not found
	logins := 0
	var promoted, back time.Duration
	for back == 0 {
		if time.Since(killed) > 30*time.Second {
			t.Fatalf("30 s after the primary died: promoted after %v, old sessions back: no", promoted)
		}
		id := elsewhere[logins%len(elsewhere)]
		tok, _ := rlogin(t, a, id, skey(logins))
		if s := rmustGet(t, b, tok); s.OpenID != id {
			t.Fatalf("a login during the failover read back as %+v", s)
		}
		logins++
		if promoted == 0 && replica.Info("role") == "master" {
			promoted = time.Since(killed)
		}
		s, err := a.Get(ctx, old[0])
		switch {
		case err == nil && s.OpenID == onVictim[0]:
			back = time.Since(killed)
		case err != nil && !errors.Is(err, ErrUnavailable):
			t.Fatalf("an old session during the failover: %+v, %v", s, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("replica promoted %v, old sessions served again %v after the primary died; %d logins on the other slots meanwhile", promoted, back, logins)
	// b, idle meanwhile, follows at its first calls (rueidis refreshes
	// the slots when a call fails): unavailable till then, never not found
	waitFor(t, 10*time.Second, "the old sessions through the other store", func() bool {
		for i, tok := range old {
			s, err := b.Get(ctx, tok)
			if err != nil && !errors.Is(err, ErrUnavailable) || err == nil && s.OpenID != onVictim[i] {
				t.Fatalf("after the failover: %+v, %v", s, err)
			}
			if err != nil {
				return false
			}
		}
		return true
	})
	t.Logf("the other store served them again %v after the primary died", time.Since(killed))
	if s := rmustGet(t, a, old[0]); s.Phone != "13800138000" {
		t.Fatalf("the phone after the failover: %+v", s)
	}
	// the near caches: ended through b, gone from a within the bound
	if err := b.Delete(ctx, old[1]); err != nil {
		t.Fatal(err)
	}
	untilGone(t, a, old[1], time.Now(), gone)
	cached(t, a, old[2]) // cached anew, from the promoted replica
	changed := time.Now()
	if n, err := b.RevokeUser(ctx, onVictim[2], false); n != 1 || err != nil {
		t.Fatalf("RevokeUser after the failover = %d, %v", n, err)
	}
	untilGone(t, a, old[2], changed, gone)
	tok, _ := rlogin(t, a, onVictim[3], skey(99)) // a login on the promoted replica's slots
	rmustGet(t, b, tok)
	if replica.MustDo("DBSIZE").(int64) == 0 {
		t.Fatal("nothing on the promoted replica")
	}
	t.Logf("the whole test: %v", time.Since(began))
}

// A primary, a replica and three Sentinels; the primary dies mid-test:
// sessions written before keep working once the replica is promoted, and
// new logins work on the new primary.
func TestRedisSentinelFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sent := testredis.StartSentinel(t)
	var log stateLog
	st := newRedisStore(t, sent.URL(), Limits{}, func(o *RedisOptions) {
		o.Timeout = 500 * time.Millisecond
		o.OnStateChange = log.hook
	})
	if c, err := st.ready(); err != nil || c.Mode() != rueidis.ClientModeSentinel {
		t.Fatalf("not in Sentinel mode: %v", err)
	}
	var toks []string
	for i := 0; i < 10; i++ {
		tok, _ := rlogin(t, st, fmt.Sprintf("o-user%02d", i), skey(i))
		toks = append(toks, tok)
	}
	if err := st.BindPhone(ctx, toks[3], "o-user03", "13800138000", "86"); err != nil {
		t.Fatal(err)
	}
	for _, tok := range toks {
		rmustGet(t, st, tok)
	}
	sent.WaitReplicated()
	killed := time.Now()
	sent.KillPrimary()
	t.Logf("the Sentinels promoted the replica %v after the primary died", time.Since(killed))
	// until the client follows, calls fail with ErrUnavailable, never a pass
	waitFor(t, 30*time.Second, "the old sessions through the new primary", func() bool {
		_, err := st.Get(ctx, toks[0])
		if err != nil && !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Get during the failover: %v", err)
		}
		return err == nil
	})
	t.Logf("served again %v after the primary died; OnStateChange: %v", time.Since(killed), func() []string { ev, _ := log.get(); return ev }())
	for i, tok := range toks {
		if s := rmustGet(t, st, tok); s.OpenID != fmt.Sprintf("o-user%02d", i) {
			t.Fatalf("after the failover: %+v", s)
		}
	}
	if s := rmustGet(t, st, toks[3]); s.Phone != "13800138000" {
		t.Fatalf("the phone after the failover: %+v", s)
	}
	var tok string
	waitFor(t, 10*time.Second, "a login on the new primary", func() bool {
		tok = st.NewToken("o-new")
		_, err := st.Login(ctx, tok, Session{OpenID: "o-new"}, skey(99))
		return err == nil
	})
	rmustGet(t, st, tok)
	if n, err := st.RevokeUser(ctx, "o-user05", false); n != 1 || err != nil {
		t.Fatalf("RevokeUser after the failover = %d, %v", n, err)
	}
	if sent.Replica.MustDo("DBSIZE").(int64) == 0 {
		t.Fatal("nothing on the new primary")
	}
}

// unix:// with a password; a wrong password leaves the store down, and
// the error it reports does not hold the password.
func TestRedisUnixSocketAndPassword(t *testing.T) {
	t.Parallel()
	srv := testredis.StartWith(t, testredis.Options{Unix: true, Password: "pw-Zq81x"})
	st := newRedisStore(t, "unix://:pw-Zq81x@"+srv.Socket, Limits{})
	tok, _ := rlogin(t, st, "o-alice", skey(1))
	rmustGet(t, st, tok)
	if n := srv.MustDo("EXISTS", st.keys.sessionKey(tok)).(int64); n != 1 {
		t.Fatal("the session is not in that Redis")
	}
	var log stateLog
	bad := newRedisStore(t, "unix://:wrong-pw-Yx7@"+srv.Socket, Limits{}, func(o *RedisOptions) { o.OnStateChange = log.hook })
	if _, err := bad.Get(context.Background(), tok); !errors.Is(err, ErrUnavailable) || strings.Contains(err.Error(), "wrong-pw-Yx7") {
		t.Fatalf("Get with a wrong password: %v", err)
	}
	ev, errs := log.get()
	if fmt.Sprint(ev) != "[down]" || errs[0] == nil || strings.Contains(errs[0].Error(), "wrong-pw-Yx7") {
		t.Fatalf("OnStateChange with a wrong password: %v %v", ev, errs)
	}
	// the URL's user name works too (ACL)
	srv.MustDo("ACL", "SETUSER", "wxauth", "on", ">pw-user-1", "~*", "+@all")
	acl := newRedisStore(t, fmt.Sprintf("redis://wxauth:pw-user-1@%s", srv.Addr()), Limits{})
	rmustGet(t, acl, tok)
}

// rediss://: TLS, with the certificate verified (against the system roots
// by default, so a private CA is refused).
func TestRedisTLS(t *testing.T) {
	testredis.Need(t, "redis-server")
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	srv := testredis.StartWith(t, testredis.Options{TLSCertFile: certFile, TLSKeyFile: keyFile})
	if !strings.HasPrefix(srv.URL(), "rediss://") {
		t.Fatalf("URL %s", srv.URL())
	}
	var log stateLog
	untrusted := newRedisStore(t, srv.URL(), Limits{}, func(o *RedisOptions) { o.OnStateChange = log.hook })
	if _, err := untrusted.Get(context.Background(), untrusted.NewToken("o")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a certificate of an unknown CA was accepted: %v", err)
	}
	if _, errs := log.get(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "certificate") {
		t.Fatalf("OnStateChange: %v", errs)
	}
	st := newRedisStore(t, srv.URL(), Limits{}, func(o *RedisOptions) { o.rootCAs = pool })
	tok, _ := rlogin(t, st, "o-alice", skey(1))
	rmustGet(t, st, tok)
	// plain redis:// to a TLS port does not work either
	plain := newRedisStore(t, strings.Replace(srv.URL(), "rediss://", "redis://", 1), Limits{}, func(o *RedisOptions) {
		o.Timeout = 300 * time.Millisecond
	})
	if _, err := plain.Get(context.Background(), tok); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("redis:// to a TLS port: %v", err)
	}
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and returns
// its files and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "testredis"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pool
}
