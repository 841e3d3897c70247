package wechatauth

// The one-time records of an app (browser login states, web-view handoff
// tickets): in its Redis store itself, or in a MemoryOnce kept beside its
// in-memory store for as long as that store lives (stores are pooled by
// app in internal/appstate and outlive a reload, so the records do too;
// a store is replaced only when its backend changes, so the map stays as
// small as the number of in-memory stores the process has made).

import (
	"sync"

	"github.com/wechat-auth/wechat_auth/internal/session"
)

var onceStores sync.Map // session.Store -> session.OnceStore

// onceOf returns the one-time records of the app's store.
func onceOf(st session.Store) session.OnceStore {
	if o, ok := st.(session.OnceStore); ok {
		return o
	}
	if o, ok := onceStores.Load(st); ok {
		return o.(session.OnceStore)
	}
	o, _ := onceStores.LoadOrStore(st, session.OnceFor(st))
	return o.(session.OnceStore)
}
