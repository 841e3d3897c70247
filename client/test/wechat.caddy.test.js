'use strict'
// Tests of the helper on WeChat (index.js; examples/miniprogram/wxauth.js
// is the same file) against a real Caddy with wechat_auth in front of the
// fake WeChat and an echo upstream (world.js).
// Only `wx` is a stub (stubs.js).

const test = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')

const { createAuth, WxAuthError, RETRYABLE, isRetryable } = require('../index.js')
const { makeApi, nonce, rejects } = require('./stubs.js')

const { BASE, APP_ID, LIMITED, LIMITED_APP_ID, TOKENS_FILE, raw, sealPhone, hdr } = require('./world.js')

// makeWx returns a stub of the mini program's wx (see stubs.js): wx.login
// hands out codes the fake WeChat understands (ok-<user>.<nonce>),
// wx.request does real HTTP with fetch, storage is a Map, and
// wx.getAccountInfoSync() gives the app id.
const makeWx = (opts = {}) => makeApi('wechat', { appId: APP_ID, tokensFile: TOKENS_FILE, ...opts })

// newAuth makes a helper on a fresh stub; it returns both.
function newAuth(wxOpts, authOpts) {
  const wx = makeWx(wxOpts)
  const auth = createAuth({ baseURL: BASE, wx, ...authOpts })
  return { wx, auth }
}

const paths = (wx) => wx.calls.map((c) => c.path)

async function closedPortURL() {
  const srv = net.createServer()
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const { port } = srv.address()
  await new Promise((resolve) => srv.close(resolve))
  return `http://127.0.0.1:${port}`
}

test('login keeps the token in storage, under storageKey', async () => {
  const { wx, auth } = newAuth({ user: 'alice' }, { storageKey: 'my_token' })
  assert.equal(auth.token(), '')
  const tok = await auth.login()
  assert.equal(typeof tok, 'string')
  assert.ok(tok.length >= 22, `short token ${tok}`)
  assert.equal(wx.storage.get('my_token'), tok)
  assert.equal(auth.token(), tok)
  assert.equal(wx.logins, 1)
  assert.deepEqual(paths(wx), ['/wx/login'])
  // The token works on the server.
  const r = await raw('GET', '/api/check', tok)
  assert.equal(r.status, 200)
  assert.ok(r.data.headers['X-Wx-Openid'][0])
})

test('the default storageKey is wxauth_token', async () => {
  const { wx, auth } = newAuth({ user: 'alice' })
  const tok = await auth.login()
  assert.equal(wx.storage.get('wxauth_token'), tok)
})

test('request adds the Bearer header; upstream sees X-Wx-Openid and no Authorization', async () => {
  const { wx, auth } = newAuth({ user: 'alice' })
  const tok = await auth.login()
  const res = await auth.request({
    url: '/api/orders',
    method: 'GET',
    data: { page: 2 },
    // A caller's own Authorization and X-WX-* headers never get through.
    header: { 'X-Trace': 't1', authorization: 'Bearer not-mine', 'X-WX-OpenID': 'spoofed' },
  })
  assert.equal(res.statusCode, 200)
  assert.equal(typeof res.header, 'object')
  assert.equal(res.data.method, 'GET')
  assert.equal(res.data.path, '/api/orders')
  assert.equal(res.data.query, 'page=2')
  const openid = hdr(res, 'X-Wx-Openid')
  assert.equal(typeof openid, 'string')
  assert.ok(openid.length > 0)
  assert.notEqual(openid, 'spoofed')
  assert.equal(res.data.headers['X-Wx-Openid'].length, 1)
  assert.equal(res.data.headers.Authorization, undefined, 'the token reached the upstream')
  assert.equal(hdr(res, 'X-Trace'), 't1')
  // What went over wx.request: exactly one Authorization, ours.
  const sent = wx.calls[wx.calls.length - 1].header
  const auths = Object.keys(sent).filter((k) => k.toLowerCase() === 'authorization')
  assert.deepEqual(auths, ['Authorization'])
  assert.equal(sent.Authorization, 'Bearer ' + tok)
  assert.equal(wx.logins, 1)
})

test('POST data reaches the upstream through request', async () => {
  const { auth } = newAuth({ user: 'alice' })
  const res = await auth.request({ url: '/api/orders', method: 'POST', data: { item: 'tea' } })
  assert.equal(res.data.method, 'POST')
  assert.equal(hdr(res, 'Content-Type'), 'application/json')
  // The echo does not return bodies; the length shows the JSON got there.
  assert.equal(hdr(res, 'Content-Length'), String(JSON.stringify({ item: 'tea' }).length))
})

test('openids: the same user gets the same one, two users different ones', async () => {
  const a1 = newAuth({ user: 'alice' }).auth
  const a2 = newAuth({ user: 'alice' }).auth
  const b = newAuth({ user: 'bob' }).auth
  const [r1, r2, r3] = await Promise.all([a1, a2, b].map((a) => a.request({ url: '/api/me' })))
  assert.ok(hdr(r1, 'X-Wx-Openid'))
  assert.notEqual(a1.token(), a2.token(), 'two logins, one token')
  assert.equal(hdr(r1, 'X-Wx-Openid'), hdr(r2, 'X-Wx-Openid'))
  assert.notEqual(hdr(r1, 'X-Wx-Openid'), hdr(r3, 'X-Wx-Openid'))
})

test('request without a prior login logs in first', async () => {
  const { wx, auth } = newAuth({ user: 'bob' })
  const res = await auth.request({ url: '/api/x' })
  assert.equal(res.statusCode, 200)
  assert.ok(hdr(res, 'X-Wx-Openid'))
  assert.equal(wx.logins, 1)
  assert.deepEqual(paths(wx), ['/wx/login', '/api/x'])
  assert.ok(auth.token())
})

test('401 (junk token in storage): one re-login, one retry', async () => {
  const { wx, auth } = newAuth({ user: 'bob' })
  wx.storage.set('wxauth_token', 'junk-token')
  const res = await auth.request({ url: '/api/x' })
  assert.equal(res.statusCode, 200)
  assert.ok(hdr(res, 'X-Wx-Openid'))
  assert.equal(wx.logins, 1)
  assert.deepEqual(paths(wx), ['/api/x', '/wx/login', '/api/x'])
  assert.notEqual(auth.token(), 'junk-token')
  assert.equal(wx.calls[0].header.Authorization, 'Bearer junk-token')
  assert.equal(wx.calls[2].header.Authorization, 'Bearer ' + auth.token())
})

test('401 (logged out behind its back): one re-login, one retry, new token', async () => {
  const { wx, auth } = newAuth({ user: 'carol' })
  const old = await auth.login()
  const out = await raw('POST', '/wx/logout', old)
  assert.equal(out.status, 204)
  const res = await auth.request({ url: '/api/y' })
  assert.equal(res.statusCode, 200)
  assert.equal(wx.logins, 2)
  assert.deepEqual(paths(wx), ['/wx/login', '/api/y', '/wx/login', '/api/y'])
  assert.notEqual(auth.token(), old)
})

test('a 401 after a fresh login does not loop: it rejects with the server error', async () => {
  // Every token dies as soon as it is handed out (logged out on the
  // server before the helper sees it), so the retry is refused too.
  const { wx, auth } = newAuth({
    user: 'carol',
    afterLogin: async (tok) => assert.equal((await raw('POST', '/wx/logout', tok)).status, 204),
  })
  const err = await rejects(auth.request({ url: '/api/z' }), 'invalid_token', 401)
  assert.equal(err.data.error, 'invalid_token')
  assert.equal(wx.logins, 2) // the first login, and one re-login
  assert.deepEqual(paths(wx), ['/wx/login', '/api/z', '/wx/login', '/api/z'])
})

test('concurrent requests with no token share one login', async () => {
  const { wx, auth } = newAuth({ user: 'dave' })
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => auth.request({ url: `/api/c${i}` })))
  assert.equal(wx.logins, 1)
  assert.equal(paths(wx).filter((p) => p === '/wx/login').length, 1)
  const ids = new Set(results.map((r) => hdr(r, 'X-Wx-Openid')))
  assert.equal(ids.size, 1)
  assert.ok([...ids][0])
  // And an explicit login() joining them is still the same one.
  const { wx: wx2, auth: auth2 } = newAuth({ user: 'dave' })
  const [t1, t2] = await Promise.all([auth2.login(), auth2.login(), auth2.request({ url: '/api/d' })])
  assert.equal(t1, t2)
  assert.equal(wx2.logins, 1)
})

test('concurrent requests that all get 401 share one re-login', async () => {
  const { wx, auth } = newAuth({ user: 'dave' })
  wx.storage.set('wxauth_token', 'junk-token')
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => auth.request({ url: `/api/r${i}` })))
  for (const r of results) assert.equal(r.statusCode, 200)
  assert.equal(wx.logins, 1)
  assert.equal(paths(wx).filter((p) => p === '/wx/login').length, 1)
})

test('a 401 arriving after another call logged in again uses the new token', async () => {
  // B's 401 (to the junk token) is held until A has logged in again and
  // retried: B must then retry with A's token, not log in a second time.
  let release
  const gate = new Promise((resolve) => (release = resolve))
  const { wx, auth } = newAuth({
    user: 'dave',
    hold: (call) => (call.path === '/api/b' && call.header.Authorization === 'Bearer junk-token' ? gate : null),
  })
  wx.storage.set('wxauth_token', 'junk-token')
  const b = auth.request({ url: '/api/b' })
  const a = await auth.request({ url: '/api/a' })
  assert.equal(a.statusCode, 200)
  release()
  const rb = await b
  assert.equal(rb.statusCode, 200)
  assert.equal(wx.logins, 1)
  assert.deepEqual(paths(wx), ['/api/b', '/api/a', '/wx/login', '/api/a', '/api/b'])
  assert.equal(wx.calls[4].header.Authorization, 'Bearer ' + auth.token())
})

test('a refused login code rejects invalid_code 401, not retryable', async () => {
  const { wx, auth } = newAuth({ code: () => 'bad-1' })
  const err = await rejects(auth.login(), 'invalid_code', 401)
  assert.equal(isRetryable(err), false)
  assert.equal(auth.token(), '')
  assert.equal(wx.storage.size, 0)
  // A failed login is not cached: the next call tries again.
  await rejects(auth.login(), 'code_used', 401) // the stub hands out bad-1 again
  assert.equal(wx.logins, 2)
})

test('request whose login fails rejects with the login error, sends nothing else', async () => {
  const { wx, auth } = newAuth({ code: () => `bad-${nonce()}` })
  await rejects(auth.request({ url: '/api/x' }), 'invalid_code', 401)
  assert.deepEqual(paths(wx), ['/wx/login'])
})

test('WeChat busy: wechat_busy 503 is retryable', async () => {
  const { auth } = newAuth({ code: () => 'busy-1' })
  const err = await rejects(auth.login(), 'wechat_busy', 503)
  assert.equal(isRetryable(err), true)
  assert.equal(err.retryAfter, 1) // the server's Retry-After: 1
})

test('too many refused codes: 429 too_many_failures with retryAfter; retryable later, never retried by the helper', async () => {
  const wx = makeWx({ code: () => `bad-${nonce()}`, appId: LIMITED_APP_ID })
  const auth = createAuth({ baseURL: LIMITED, wx })
  const first = await rejects(auth.login(), 'invalid_code', 401)
  assert.equal(first.retryAfter, undefined)
  await rejects(auth.login(), 'invalid_code', 401)
  // failure_limit 2/1m: the address is held now
  const err = await rejects(auth.login(), 'too_many_failures', 429)
  assert.equal(isRetryable(err), true)
  assert.ok(Number.isInteger(err.retryAfter) && err.retryAfter >= 1 && err.retryAfter <= 64, `retryAfter ${err.retryAfter}`)
  assert.equal(auth.token(), '')
  // A request whose login is held rejects the same, after one attempt.
  const sent = wx.calls.length
  const again = await rejects(auth.request({ url: '/api/x' }), 'too_many_failures', 429)
  assert.ok(again.retryAfter >= 1)
  assert.deepEqual(paths(wx).slice(sent), ['/tight/wx/login'])
  // So does binding a phone with a token, without a re-login.
  wx.storage.set('wxauth_token', 'x'.repeat(43))
  const sentPhone = wx.calls.length
  await rejects(auth.bindPhone({ detail: { code: 'phone-13800138000' } }), 'too_many_failures', 429)
  assert.deepEqual(paths(wx).slice(sentPhone), ['/tight/wx/phone'])
})

test('wx.login failing rejects login_failed with status 0 and no HTTP', async () => {
  const { wx, auth } = newAuth({ loginErr: 'login:fail timeout' })
  const err = await rejects(auth.request({ url: '/api/x' }), 'login_failed', 0)
  assert.match(err.message, /login:fail timeout/)
  assert.equal(wx.calls.length, 0)
})

test('RETRYABLE and isRetryable', () => {
  assert.deepEqual(
    [...RETRYABLE].sort(),
    [
      'rate_limited',
      'session_store_full',
      'session_store_unavailable',
      'too_many_failures',
      'wechat_bad_response',
      'wechat_busy',
      'wechat_error',
      'wechat_timeout',
      'wechat_unreachable',
    ]
  )
  assert.equal(isRetryable(new WxAuthError(429, 'rate_limited', 'm')), true)
  assert.equal(isRetryable(new WxAuthError(429, 'too_many_failures', 'm')), true)
  assert.equal(new WxAuthError(429, 'too_many_failures', 'm', { data: {}, header: { 'Retry-After': '17' } }).retryAfter, 17)
  assert.equal(new WxAuthError(429, 'rate_limited', 'm', { data: {}, header: { 'retry-after': 'soon' } }).retryAfter, undefined)
  assert.equal(isRetryable(new WxAuthError(502, 'wechat_config_error', 'm')), false)
  assert.equal(isRetryable(new WxAuthError(400, 'invalid_json', 'm')), false)
  assert.equal(isRetryable(new WxAuthError(504, 'http_error', 'm')), true)
  assert.equal(isRetryable(new WxAuthError(500, 'http_error', 'm')), false)
  assert.equal(isRetryable(null), false)
  assert.equal(isRetryable(new Error('x')), false)
})

test('/phone/x before binding rejects phone_required 403, without a re-login', async () => {
  const { wx, auth } = newAuth({ user: 'erin' })
  const err = await rejects(auth.request({ url: '/phone/x' }), 'phone_required', 403)
  assert.equal(err.data.error, 'phone_required')
  assert.equal(wx.logins, 1)
  assert.deepEqual(paths(wx), ['/wx/login', '/phone/x'])
})

test('bindPhone with a code: /phone/x passes, upstream sees X-Wx-Phone', async () => {
  const { wx, auth } = newAuth({ user: 'erin' })
  await rejects(auth.request({ url: '/phone/x' }), 'phone_required', 403)
  const phone = await auth.bindPhone({
    type: 'getphonenumber',
    detail: { errMsg: 'getPhoneNumber:ok', code: `phone-13800138000.${nonce()}` },
  })
  assert.equal(phone.pure_phone_number, '13800138000')
  assert.equal(String(phone.country_code), '86')
  assert.ok(phone.phone_number)
  const res = await auth.request({ url: '/phone/x' })
  assert.equal(res.statusCode, 200)
  assert.equal(hdr(res, 'X-Wx-Phone'), '13800138000')
  assert.equal(hdr(res, 'X-Wx-Phone-Country'), '86')
  assert.ok(hdr(res, 'X-Wx-Openid'))
  assert.equal(wx.logins, 1)
  assert.equal(wx.calls.find((c) => c.path === '/wx/phone').header.Authorization, 'Bearer ' + auth.token())
})

test('bindPhone with encryptedData and iv (legacy flow)', async () => {
  const { wx, auth } = newAuth({ user: 'dave' })
  await auth.login()
  // The fake plays the mini program's side: it seals the phone with the
  // user's current session_key, as WeChat does for the button.
  const { encryptedData, iv } = await sealPhone('dave', '13800138000')
  assert.ok(encryptedData && iv)
  const phone = await auth.bindPhone({ detail: { errMsg: 'getPhoneNumber:ok', encryptedData, iv } })
  assert.equal(phone.pure_phone_number, '13800138000')
  const sent = wx.calls.find((c) => c.path === '/wx/phone')
  assert.ok(sent)
  const res = await auth.request({ url: '/phone/x' })
  assert.equal(hdr(res, 'X-Wx-Phone'), '13800138000')
})

test('bindPhone on a dead token logs in again and sends the same phone code once more', async () => {
  // The 401 comes before the server asks WeChat, so the single-use phone
  // code is still good for the retry.
  const { wx, auth } = newAuth({ user: 'carol' })
  const old = await auth.login()
  assert.equal((await raw('POST', '/wx/logout', old)).status, 204)
  const code = `phone-13900139000.${nonce()}`
  const phone = await auth.bindPhone({ detail: { code } })
  assert.equal(phone.pure_phone_number, '13900139000')
  assert.equal(wx.logins, 2)
  assert.deepEqual(paths(wx), ['/wx/login', '/wx/phone', '/wx/login', '/wx/phone'])
  const res = await auth.request({ url: '/phone/x' })
  assert.equal(hdr(res, 'X-Wx-Phone'), '13900139000')
})

test('bindPhone with encryptedData sealed before a re-login (previous session_key)', async () => {
  const { wx, auth } = newAuth({ user: 'bob' })
  const old = await auth.login()
  const { encryptedData, iv } = await sealPhone('bob', '13700137000')
  // The session dies; bindPhone's re-login (a new wx.login) replaces the
  // session_key the data was sealed with.
  assert.equal((await raw('POST', '/wx/logout', old)).status, 204)
  const phone = await auth.bindPhone({ detail: { encryptedData, iv } })
  assert.equal(phone.pure_phone_number, '13700137000')
  assert.equal(wx.logins, 2)
})

test('bindPhone with a refused event rejects phone_denied without any HTTP call', async () => {
  const { wx, auth } = newAuth({ user: 'erin' })
  const err = await rejects(
    auth.bindPhone({ type: 'getphonenumber', detail: { errMsg: 'getPhoneNumber:fail user deny' } }),
    'phone_denied',
    0
  )
  assert.match(err.message, /user deny/)
  await rejects(auth.bindPhone({}), 'phone_denied', 0)
  await rejects(auth.bindPhone(undefined), 'phone_denied', 0)
  assert.equal(wx.calls.length, 0)
  assert.equal(wx.logins, 0)
})

test('bindPhone with the quota spent (errno 1400001) rejects phone_quota_exhausted, not phone_denied', async () => {
  const { wx, auth } = newAuth({ user: 'erin' })
  const err = await rejects(
    auth.bindPhone({ type: 'getphonenumber', detail: { errMsg: 'getPhoneNumber:fail no permission', errno: 1400001 } }),
    'phone_quota_exhausted',
    0
  )
  assert.match(err.message, /quota/)
  assert.equal(isRetryable(err), false)
  // errno as a string, as some base libraries give it
  await rejects(auth.bindPhone({ detail: { errno: '1400001' } }), 'phone_quota_exhausted', 0)
  // another errno without a phone is still the user's refusal
  await rejects(auth.bindPhone({ detail: { errMsg: 'getPhoneNumber:fail user deny', errno: 1400002 } }), 'phone_denied', 0)
  assert.equal(wx.calls.length, 0)
  assert.equal(wx.logins, 0)
})

test('bindPhone: the privacy errnos are not a refusal (104 privacy_denied, 112 privacy_not_declared)', async () => {
  const { wx, auth } = newAuth({ user: 'erin' })
  const denied = await rejects(
    auth.bindPhone({ detail: { errMsg: 'getPhoneNumber:fail privacy permission is not authorized', errno: 104 } }),
    'privacy_denied',
    0
  )
  assert.match(denied.message, /privacy permission/)
  const undeclared = await rejects(
    auth.bindPhone({ detail: { errMsg: 'getPhoneNumber:fail api scope is not declared in the privacy agreement', errno: '112' } }),
    'privacy_not_declared',
    0
  )
  assert.match(undeclared.message, /privacy guide/)
  assert.equal(isRetryable(denied), false)
  assert.equal(isRetryable(undeclared), false)
  assert.equal(wx.calls.length, 0)
  assert.equal(wx.logins, 0)
})

test('login sends the code and the app id wx.getAccountInfoSync gives; platform is wechat', async () => {
  const { wx, auth } = newAuth({ user: 'alice' })
  assert.equal(auth.platform, 'wechat')
  assert.equal(auth.phoneBound, undefined)
  await auth.login()
  const sent = wx.calls[0]
  assert.equal(sent.path, '/wx/login')
  assert.equal(sent.method, 'POST')
  assert.deepEqual(Object.keys(sent.body).sort(), ['app_id', 'code'])
  assert.equal(sent.body.app_id, APP_ID)
  assert.match(sent.body.code, /^ok-alice\./)
  // Without getAccountInfoSync (an old base library) and no appId option,
  // app_id is left out: the server uses the block's only app.
  const bare = makeWx({ user: 'alice' })
  delete bare.getAccountInfoSync
  await createAuth({ baseURL: BASE, wx: bare }).login()
  assert.deepEqual(Object.keys(bare.calls[0].body), ['code'])
  // The appId option wins over the platform's.
  const other = makeWx({ user: 'alice' })
  await createAuth({ baseURL: BASE, api: other, platform: 'wechat', appId: APP_ID }).login()
  assert.equal(other.calls[0].body.app_id, APP_ID)
})

test('bindPhone with a refused phone code rejects invalid_phone_code 400', async () => {
  // frank never binds a phone: a bound phone would outlive his logins
  const { auth } = newAuth({ user: 'frank' })
  await auth.login()
  const err = await rejects(auth.bindPhone({ detail: { code: 'bad-x' } }), 'invalid_phone_code', 400)
  assert.equal(isRetryable(err), false)
  await rejects(auth.request({ url: '/phone/x' }), 'phone_required', 403)
})

test('logout kills the token on the server and clears storage', async () => {
  const { wx, auth } = newAuth({ user: 'alice' })
  const tok = await auth.login()
  assert.equal((await raw('GET', '/api/x', tok)).status, 200)
  await auth.logout()
  assert.equal(auth.token(), '')
  assert.equal(wx.storage.has('wxauth_token'), false)
  const last = wx.calls[wx.calls.length - 1]
  assert.equal(last.path, '/wx/logout')
  assert.equal(last.method, 'POST')
  assert.equal(last.header.Authorization, 'Bearer ' + tok)
  const after = await raw('GET', '/api/x', tok)
  assert.equal(after.status, 401)
  assert.equal(after.data.error, 'invalid_token')
  // With no token, logout sends nothing.
  const n = wx.calls.length
  await auth.logout()
  assert.equal(wx.calls.length, n)
})

test('logout forgets the token even when the server says 401', async () => {
  const { wx, auth } = newAuth({ user: 'bob' })
  const tok = await auth.login()
  assert.equal((await raw('POST', '/wx/logout', tok)).status, 204)
  await auth.logout() // resolves: the token was dead already
  assert.equal(auth.token(), '')
  assert.equal(wx.storage.has('wxauth_token'), false)
})

test('network failure rejects network_error with status 0', async () => {
  const url = await closedPortURL()
  const wx = makeWx({ user: 'alice' })
  const auth = createAuth({ baseURL: url, wx })
  await rejects(auth.login(), 'network_error', 0)
  wx.storage.set('wxauth_token', 'some-token')
  const err = await rejects(auth.request({ url: '/api/x' }), 'network_error', 0)
  assert.match(err.message, /request:fail/)
  assert.equal(isRetryable(err), false)
  // logout over a dead network still forgets the token, and says so.
  await rejects(auth.logout(), 'network_error', 0)
  assert.equal(auth.token(), '')
})

test('createAuth checks its options; request wants a path', async () => {
  assert.throws(() => createAuth({ baseURL: 'api.example.com', wx: makeWx() }), TypeError)
  assert.throws(() => createAuth({ baseURL: BASE }), TypeError) // no global wx in Node
  const { wx, auth } = newAuth({ user: 'alice' }, { baseURL: BASE + '/' })
  await assert.rejects(auth.request({ url: 'https://evil.example/steal' }), TypeError)
  assert.equal(wx.calls.length, 0)
  // A trailing slash on baseURL is fine.
  const res = await auth.request({ url: '/api/slash' })
  assert.equal(res.data.path, '/api/slash')
})
