package session

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// The Redis store watches its connections with a heartbeat: every
// heartbeatEvery it sends TIME to every node, over the very connection
// that carries the node's commands and its invalidation messages.
//
// A reply to a heartbeat sent at s proves that every invalidation for a
// write Redis finished before s has reached the near cache (Redis sends
// them on that connection ahead of later replies, and the client applies
// them in order). So the near cache is used only while the newest
// heartbeat that every node answered was sent less than nearCacheFresh
// ago: a Get served from memory at t is then never older than a write
// finished before t - nearCacheFresh, whatever happened to the link.
// Otherwise Get reads from Redis.
//
// When no node answers, the store is down: every call fails at once with
// ErrUnavailable, without waiting for Redis, until a heartbeat is answered
// again (they go on every retryEvery). OnStateChange hears each change.
const (
	heartbeatEvery = 25 * time.Millisecond
	retryEvery     = 100 * time.Millisecond
	nearCacheFresh = 75 * time.Millisecond
)

// mono is the time since the store was made, on the monotonic clock.
func (r *Redis) mono() int64 { return int64(time.Since(r.epoch)) }

// fresh tells whether the near cache may answer now.
func (r *Redis) fresh() bool {
	return r.mono()-r.lastBeat.Load() < int64(nearCacheFresh)
}

// ready returns the client, or the error of a store that is down.
func (r *Redis) ready() (rueidis.Client, error) {
	if !r.up.Load() {
		return nil, *r.downErr.Load()
	}
	c := r.client.Load()
	if c == nil {
		return nil, *r.downErr.Load()
	}
	return *c, nil
}

// fail maps a client error to the store's, and wakes the heartbeat so
// that a dead Redis is known at once.
func (r *Redis) fail(err error) error {
	if rueidis.IsRedisNil(err) {
		return ErrNotFound
	}
	select {
	case r.kick <- struct{}{}:
	default:
	}
	return fmt.Errorf("%w: redis: %v", ErrUnavailable, err)
}

// monitor runs the heartbeat until Close.
func (r *Redis) monitor() {
	defer close(r.done)
	t := time.NewTimer(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		case <-r.kick:
		}
		r.beat()
		if r.up.Load() {
			t.Reset(heartbeatEvery)
		} else {
			t.Reset(retryEvery)
		}
	}
}

// beat connects if need be, then sends TIME to every node.
func (r *Redis) beat() {
	cp := r.client.Load()
	if cp == nil {
		c, err := r.connect()
		if err != nil {
			r.setState(false, err)
			return
		}
		cp = &c
		r.client.Store(cp)
	}
	c := *cp
	sent := r.mono()
	nodes := c.Nodes()
	ctx, cancel := context.WithTimeout(r.ctx, r.timeout)
	defer cancel()
	type result struct {
		skew int64
		err  error
	}
	results := make(chan result, len(nodes))
	for _, n := range nodes {
		go func() {
			before := time.Now()
			v, err := n.Do(ctx, n.B().Time().Build()).AsStrSlice()
			after := time.Now()
			if err == nil && len(v) != 2 {
				err = errors.New("TIME: unexpected reply")
			}
			var sec, usec int64
			if err == nil {
				sec, err = strconv.ParseInt(v[0], 10, 64)
			}
			if err == nil {
				usec, err = strconv.ParseInt(v[1], 10, 64)
			}
			mid := before.Add(after.Sub(before) / 2).UnixMilli()
			results <- result{skew: sec*1000 + usec/1000 - mid, err: err}
		}()
	}
	ok := 0
	var firstErr error
	for range nodes {
		res := <-results
		if res.err != nil {
			if firstErr == nil {
				firstErr = res.err
			}
			continue
		}
		ok++
		r.skew.Store(res.skew)
	}
	if r.ctx.Err() != nil {
		return // closing
	}
	switch {
	case ok > 0 && firstErr == nil:
		r.lastBeat.Store(sent)
		r.setState(true, nil)
	case ok == 0:
		if firstErr == nil {
			firstErr = errors.New("no node known")
		}
		r.setState(false, firstErr)
	}
	// some nodes answer, some not (part of a Cluster is down): not down,
	// but the near cache waits until every node answers again
}

// setState records up or down, telling OnStateChange of a change.
func (r *Redis) setState(up bool, err error) {
	r.stateMu.Lock()
	defer r.stateMu.Unlock()
	if !up {
		e := fmt.Errorf("%w: redis is down: %v", ErrUnavailable, err)
		r.downErr.Store(&e)
	}
	if r.up.Load() == up && r.stateKnown {
		return
	}
	r.stateKnown = true
	r.up.Store(up)
	if r.onState != nil && r.ctx.Err() == nil {
		r.onState(up, err)
	}
}
