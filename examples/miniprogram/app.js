// The demo mini program: one page (pages/index) using wxauth.js.
//
// baseURL is where Caddy with wechat_auth answers. A real mini program may
// only call https domains listed in its "request legal domains" (mp admin
// console); with `go run ./cmd/demo`, use 'http://127.0.0.1:8080' and tick
// "do not verify domain names" in WeChat DevTools. wxauth.js uses
// async/await: turn on "enhanced compile" in DevTools if the project
// compiles ES6 to ES5.
const { createAuth } = require('./wxauth.js')

App({
  globalData: {
    // One helper for the whole app, so that every page shares its token
    // and its single in-flight login.
    auth: createAuth({ baseURL: 'https://api.example.com' }),
  },
})
