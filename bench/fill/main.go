// Command fill is bench/run.sh's way to fill a store before target BF is
// measured: n real logins, POST /wx/login through Caddy to the fake WeChat,
// each with the single-use code "ok-<prefix><i>", so each login is a user
// of its own and a session of its own. c logins are in flight at a time.
// It prints one line: "fill: <n> logins in <s>s (<rate>/s), statuses
// 200=<k> ..." and exits 1 if any login did not answer 200 with a token.
//
//	go run ./bench/fill -url http://127.0.0.1:19112/wx/login -n 1000000
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "", "the /wx/login URL")
	n := flag.Int("n", 1_000_000, "logins")
	c := flag.Int("c", 64, "logins in flight")
	prefix := flag.String("prefix", "f", "user name prefix (letters, digits, _)")
	flag.Parse()
	if *url == "" || *n < 1 || *c < 1 {
		fmt.Fprintln(os.Stderr, "fill: need -url, -n >= 1 and -c >= 1")
		os.Exit(2)
	}
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: *c, MaxConnsPerHost: *c},
	}
	var next atomic.Int64
	var mu sync.Mutex
	statuses := map[string]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *c; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := map[string]int{}
			for {
				i := next.Add(1)
				if i > int64(*n) {
					break
				}
				seen[login(client, *url, fmt.Sprintf("ok-%s%d", *prefix, i))]++
			}
			mu.Lock()
			for k, v := range seen {
				statuses[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	keys := make([]string, 0, len(statuses))
	for k := range statuses {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, statuses[k])
	}
	fmt.Printf("fill: %d logins in %.1fs (%.0f/s), statuses %s\n", *n, secs, float64(*n)/secs, strings.Join(parts, " "))
	if statuses["200"] != *n {
		os.Exit(1)
	}
}

// login posts code and returns the status ("200" only with a token in the
// answer, "error" when the request failed).
func login(client *http.Client, url, code string) string {
	resp, err := client.Post(url, "application/json", strings.NewReader(`{"code":"`+code+`"}`))
	if err != nil {
		return "error"
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "error"
	}
	if resp.StatusCode == 200 && !bytes.Contains(body, []byte(`"token":"`)) {
		return "200-without-token"
	}
	return fmt.Sprint(resp.StatusCode)
}
