package fakekit

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCodes(t *testing.T) {
	c := NewCodes(time.Minute)
	now := time.Unix(1_700_000_000, 0)
	code := c.Mint("app", "ok-alice", now)
	if c.Use("other", code, now) != CodeFresh {
		t.Error("codes are per app")
	}
	if c.Use("app", code, now.Add(time.Minute-time.Nanosecond)) != CodeFresh {
		t.Error("fresh code refused")
	}
	if c.Use("app", code, now) != CodeUsed {
		t.Error("reuse accepted")
	}
	late := c.Mint("app", "ok-alice", now)
	if c.Use("app", late, now.Add(time.Minute)) != CodeExpired {
		t.Error("expired code accepted")
	}
	if c.Use("app", "ok-bob.1", now.Add(24*time.Hour)) != CodeFresh || c.Use("app", "ok-bob.1", now) != CodeUsed {
		t.Error("a written code is single use, and does not expire")
	}
}

func TestBoundCodes(t *testing.T) {
	c := NewBoundCodes(time.Minute)
	now := time.Unix(1_700_000_000, 0)
	code := c.Mint("app", "ok-alice", now)
	if c.Use("other", code, now) != CodeOtherApp || c.Use("app", code, now) != CodeFresh {
		t.Error("another app's code is refused, and not spent")
	}
	if c.Use("other", "ok-bob.1", now) != CodeFresh || c.Use("app", "ok-bob.1", now) != CodeUsed {
		t.Error("a written code is spent for every app")
	}
	late := c.Mint("app", "ok-alice", now)
	if c.Use("app", late, now.Add(time.Minute)) != CodeExpired || c.Use("app", late, now) != CodeFresh {
		t.Error("an expired code is refused, and not spent")
	}
	c.Record("app", "same-carol", now)
	if !c.Expired("app", "same-carol", now.Add(time.Minute)) || c.Expired("app", "same-carol", now) || c.Expired("app", "never", now.Add(time.Hour)) {
		t.Error("Expired")
	}
}

func TestFIFOMap(t *testing.T) {
	f := NewFIFOMap[int](2)
	f.Put("a", 1)
	f.Put("b", 2)
	f.Put("a", 3)
	f.Put("c", 4)
	if _, ok := f.Get("a"); ok {
		t.Error("oldest kept")
	}
	if v, _ := f.Get("c"); v != 4 || len(f.m) != 2 {
		t.Errorf("%v", f.m)
	}
}

func TestUser(t *testing.T) {
	for spec, want := range map[string]string{"alice": "alice", "alice.1": "alice", "a_b9.x.y": "a_b9", "": "", ".1": "", "al-ice": "", "é": ""} {
		if got, ok := User(spec); got != want || ok != (want != "") {
			t.Errorf("%q: %q %v", spec, got, ok)
		}
	}
}

func TestSteerAndForce(t *testing.T) {
	var b Base
	b.Init()
	defer b.Close()
	r := httptest.NewRequest("POST", "/", nil)
	w := httptest.NewRecorder()
	for code, want := range map[string][2]string{
		"ok-alice.1":     {"ok", "alice.1"},
		"slow-0-alice.1": {"ok", "alice.1"},
		"slow-x-alice":   {"bad", "x-alice"},
		"bad":            {"bad", ""},
	} {
		o, a, goOn := b.Steer(w, r, code)
		if !goOn || o != want[0] || a != want[1] {
			t.Errorf("%q: %q %q %v", code, o, a, goOn)
		}
	}
	b.Force("e", ModeBusy)
	b.Force("e", ModeHTML)
	if m, _ := b.Forced("e"); m != ModeBusy {
		t.Error(m)
	}
	if m, _ := b.Forced("e"); m != ModeHTML || !b.Misbehave(w, r, m) || w.Code != http.StatusOK || w.Header().Get("Content-Type") != TypeHTML {
		t.Error(m, w.Code)
	}
	if _, ok := b.Forced("e"); ok {
		t.Error("queue not emptied")
	}
	if b.Misbehave(httptest.NewRecorder(), r, ModeBusy) {
		t.Error("busy is the platform's own answer")
	}
}
