'use strict'
// The helper against a small stub of wechat_auth (below) for what the
// real server and its fakes do not produce on demand: a second 400
// session_key_expired right after the fresh login, Alipay response
// strings no fake gives (not JSON, unencrypted) and the body the helper
// makes of them, my.getPhoneNumber failing. What the real Caddy can show
// runs there: app_id routing (missing_app_id, unknown_app) and every
// platform's login and phone flow through its fake in
// every.caddy.test.js; phone_bound, GET /wx/session and
// session_key_expired's resend in wechat.caddy.test.js. Also here:
// finding the platform, the ES module face, and the copy in
// examples/miniprogram.

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')

const { createAuth, WxAuthError } = require('../index.js')
const { forApi, makeApi, rejects, withGlobals, nonce } = require('./stubs.js')

// startServer starts the stub on a free loopback port. apps maps app_id to
// platform. It keeps sessions (token -> {app_id, platform, user}), users'
// phones (user -> phone), and every request (seen). expireKeys is how many
// more {"encryptedData"} posts answer 400 session_key_expired.
async function startServer(apps) {
  const s = { apps, sessions: new Map(), phones: new Map(), seen: [], expireKeys: 0 }
  const reply = (res, status, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...(status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {}) })
    res.end(body === undefined ? '' : JSON.stringify(body))
  }
  const fail = (res, status, error) => reply(res, status, { error, message: error.replace(/_/g, ' ') })
  s.server = http.createServer((req, res) => {
    let text = ''
    req.on('data', (c) => (text += c))
    req.on('end', () => {
      const body = text ? JSON.parse(text) : undefined
      s.seen.push({ method: req.method, path: req.url, body })
      const tok = (req.headers.authorization || '').replace(/^Bearer /, '')
      const sess = s.sessions.get(tok)
      if (req.url === '/wx/login' && req.method === 'POST') {
        const ids = Object.keys(apps)
        let appId = body.app_id
        if (appId === undefined) {
          if (ids.length > 1) return fail(res, 400, 'missing_app_id')
          appId = ids[0]
        }
        if (!apps[appId]) return fail(res, 400, 'unknown_app')
        const m = /^ok-([a-z]+)\./.exec(body.code || '')
        if (!m) return fail(res, 401, 'invalid_code')
        const token = crypto.randomBytes(24).toString('base64url')
        s.sessions.set(token, { app_id: appId, platform: apps[appId], user: m[1] })
        return reply(res, 200, { token, expires_in: 7200, phone_bound: s.phones.has(m[1]) })
      }
      if (!sess) return fail(res, 401, 'invalid_token')
      if (req.url === '/wx/session' && req.method === 'GET') {
        return reply(res, 200, { app_id: sess.app_id, platform: sess.platform, expires_in: 7100, phone_bound: s.phones.has(sess.user) })
      }
      if (req.url === '/wx/phone' && req.method === 'POST') {
        if (body.encryptedData && s.expireKeys > 0) {
          s.expireKeys--
          return fail(res, 400, 'session_key_expired')
        }
        const phone = body.code ? body.code.replace(/^phone-/, '') : '13800138000'
        s.phones.set(sess.user, phone)
        return reply(res, 200, { phone_number: phone, pure_phone_number: phone, country_code: '86' })
      }
      if (req.url === '/wx/logout' && req.method === 'POST') {
        s.sessions.delete(tok)
        return reply(res, 204)
      }
      return reply(res, 200, { path: req.url })
    })
  })
  await new Promise((resolve) => s.server.listen(0, '127.0.0.1', resolve))
  s.base = `http://127.0.0.1:${s.server.address().port}`
  s.close = () => new Promise((resolve) => s.server.close(resolve))
  s.paths = () => s.seen.map((r) => r.path)
  return s
}

// withServer runs fn(server) with a fresh stub server serving apps.
async function withServer(apps, fn) {
  const s = await startServer(apps)
  try {
    return await fn(s)
  } finally {
    await s.close()
  }
}

const WECHAT = { wx0000000000000001: 'wechat' }
const MANY = { wx0000000000000001: 'wechat', tt00000000000001: 'douyin', '2021000000000001': 'alipay', qq0000000001: 'qq' }

// The happy path runs against the real server (wechat.caddy.test.js); an
// expiry again after the fresh login is not something the real WeChat
// does on demand, so the helper's "once, not twice" stays here.
test('session_key_expired: a fresh login, then the same data once more, by itself; not twice', () =>
  withServer(WECHAT, async (s) => {
    const wx = makeApi('wechat', { user: 'jack', appId: 'wx0000000000000001' })
    const auth = createAuth({ baseURL: s.base, ...forApi(wx) })
    await auth.login()
    const first = auth.token()
    s.expireKeys = 1
    const detail = { encryptedData: 'c2VhbGVk', iv: 'aXY=' }
    const phone = await auth.bindPhone({ detail })
    assert.equal(phone.pure_phone_number, '13800138000')
    assert.equal(wx.logins, 2)
    assert.notEqual(auth.token(), first)
    assert.deepEqual(s.paths(), ['/wx/login', '/wx/phone', '/wx/login', '/wx/phone'])
    assert.deepEqual(s.seen[1].body, detail)
    assert.deepEqual(s.seen[3].body, detail)
    assert.equal(auth.phoneBound, true)
    // Expired again after the fresh login: no second resend, the error comes through.
    s.expireKeys = 2
    s.seen.length = 0
    await rejects(auth.bindPhone({ detail }), 'session_key_expired', 400)
    assert.deepEqual(s.paths(), ['/wx/phone', '/wx/login', '/wx/phone'])
    assert.equal(wx.logins, 3)
  }))

test('Alipay: response strings that are not {"response": "<string>"} JSON are sent as they are', () =>
  withServer(MANY, async (s) => {
    const cases = [
      ['not json at all', { response: 'not json at all' }],
      // unencrypted: the inner response is an object, signed as the raw text
      ['{"response":{"code":"10000","mobile":"13800138000"},"sign":"x"}', null],
      ['{"response":"Y2lwaGVy"}', { response: 'Y2lwaGVy' }],
    ]
    for (const [response, want] of cases) {
      const my = makeApi('alipay', { user: 'kate', appId: '2021000000000001', phoneResponse: response })
      const auth = createAuth({ baseURL: s.base, ...forApi(my) })
      s.seen.length = 0
      await auth.bindPhone()
      assert.deepEqual(s.seen.find((r) => r.path === '/wx/phone').body, want || { response })
    }
  }))

test('Alipay: my.getPhoneNumber failing rejects phone_denied, nothing sent', () =>
  withServer(MANY, async (s) => {
    const my = makeApi('alipay', { user: 'kate', appId: '2021000000000001', phoneErr: '用户取消授权' })
    const auth = createAuth({ baseURL: s.base, ...forApi(my) })
    const err = await rejects(auth.bindPhone(), 'phone_denied', 0)
    assert.match(err.message, /用户取消授权 \(error 11\)/)
    const none = makeApi('alipay', { user: 'kate', appId: '2021000000000001', phoneResponse: '' })
    await rejects(createAuth({ baseURL: s.base, ...forApi(none) }).bindPhone(), 'phone_denied', 0)
    delete none.getPhoneNumber
    await rejects(createAuth({ baseURL: s.base, ...forApi(none) }).bindPhone(), 'phone_denied', 0)
    assert.deepEqual(s.seen, [])
  }))

// ---- finding the platform ----

// platformOf makes a helper with these globals (and options) and says
// which platform it found and which object's login it used.
async function platformOf(globals, opts = {}) {
  return withServer(MANY, (s) =>
    withGlobals(globals, async () => {
      const auth = createAuth({ baseURL: s.base, ...opts })
      await auth.login()
      const used = Object.keys(globals).filter((n) => globals[n].logins > 0)
      const ids = s.seen.filter((r) => r.path === '/wx/login').map((r) => r.body.app_id)
      return { platform: auth.platform, used, appId: ids[0] }
    })
  )
}
const g = (kind, appId) => makeApi(kind, { user: 'mia', appId, code: () => `ok-mia.${nonce()}` })

test('the platform is found from the globals: qq before wx (QQ aliases wx), then tt, ks, swan, my, wx', async () => {
  assert.deepEqual(await platformOf({ wx: g('wechat', 'wx0000000000000001') }), { platform: 'wechat', used: ['wx'], appId: 'wx0000000000000001' })
  assert.deepEqual(await platformOf({ qq: g('qq', 'qq0000000001'), wx: g('wechat', 'qq0000000001') }), {
    platform: 'qq',
    used: ['qq'],
    appId: 'qq0000000001',
  })
  assert.deepEqual(await platformOf({ tt: g('douyin', 'tt00000000000001') }), { platform: 'douyin', used: ['tt'], appId: 'tt00000000000001' })
  assert.deepEqual(await platformOf({ my: g('alipay', '2021000000000001') }), { platform: 'alipay', used: ['my'], appId: '2021000000000001' })
  const baidu = await platformOf({ swan: g('baidu', 'wx0000000000000001') })
  assert.equal(baidu.platform, 'baidu')
  const ks = await platformOf({ ks: g('kuaishou', 'wx0000000000000001') })
  assert.equal(ks.platform, 'kuaishou')
})

test('uni-app first: uni.login and uni.request, the platform from uniPlatform, the app id from the platform under it', async () => {
  const uni = makeApi('uni', { user: 'mia', uniPlatform: 'mp-toutiao' })
  const tt = g('douyin', 'tt00000000000001')
  assert.deepEqual(await platformOf({ uni, tt }), { platform: 'douyin', used: ['uni'], appId: 'tt00000000000001' })
  assert.deepEqual(uni.loginOptions, [{}])
  assert.equal(tt.calls.length, 0, 'requests go through uni')
  // uniPlatform unknown (older uni-app): the platform's global decides.
  const old = makeApi('uni', { user: 'mia' })
  const r = await platformOf({ uni: old, my: g('alipay', '2021000000000001') })
  assert.deepEqual(r, { platform: 'alipay', used: ['uni'], appId: '2021000000000001' })
  // Under uni the storage is uni's, by key (even on Alipay).
  assert.equal(typeof old.storage.get('wxauth_token'), 'string')
})

test('Taro, passed as api: Taro.login, the platform from Taro.getEnv()', async () => {
  const Taro = makeApi('taro', { user: 'mia', env: 'TT' })
  const r = await withServer(MANY, (s) =>
    withGlobals({ tt: g('douyin', 'tt00000000000001') }, async () => {
      const auth = createAuth({ baseURL: s.base, ...forApi(Taro) })
      await auth.login()
      return { platform: auth.platform, body: s.seen[0].body }
    })
  )
  assert.equal(r.platform, 'douyin')
  assert.equal(r.body.app_id, 'tt00000000000001')
  assert.equal(Taro.logins, 1)
})

test('options: platform overrides what is found; a wrong platform or none found is a TypeError naming it', async () => {
  const r = await platformOf({ wx: g('wechat', 'wx0000000000000001') }, { platform: 'qq', api: g('qq', 'qq0000000001') })
  assert.equal(r.platform, 'qq')
  assert.throws(() => createAuth({ baseURL: 'https://x.example', api: g('wechat'), platform: 'weixin' }), {
    name: 'TypeError',
    message: /platform "weixin" is not one of wechat, qq, douyin, kuaishou, baidu, alipay/,
  })
  assert.throws(() => createAuth({ baseURL: 'https://x.example' }), { name: 'TypeError', message: /no mini program platform found/ })
  assert.throws(() => createAuth({ baseURL: 'https://x.example', platform: 'douyin' }), { name: 'TypeError', message: /no tt object/ })
  assert.throws(() => createAuth({ baseURL: 'https://x.example', api: g('wechat'), appId: 42 }), { name: 'TypeError', message: /appId/ })
  assert.throws(() => createAuth({ baseURL: 'https://x.example', api: g('wechat'), framework: 'taro' }), {
    name: 'TypeError',
    message: /framework "taro" is not 'uni'/,
  })
  // An api of no known global, without platform: wechat's shapes are not assumed.
  assert.throws(() => createAuth({ baseURL: 'https://x.example', api: g('wechat') }), { name: 'TypeError', message: /no mini program platform found/ })
})

test('the login call failing rejects login_failed on every platform, with the platform message', async () => {
  for (const kind of ['wechat', 'qq', 'kuaishou', 'douyin', 'baidu', 'alipay']) {
    const api = makeApi(kind, { loginErr: 'login:fail timeout' })
    const err = await rejects(createAuth({ baseURL: 'http://127.0.0.1:9', api, platform: kind }).login(), 'login_failed', 0)
    assert.match(err.message, /login:fail timeout/)
    assert.equal(api.calls.length, 0)
  }
})

// ---- the package ----

test('the ES module face and the package name give the same objects as index.js', async () => {
  const esm = await import('../index.mjs')
  const cjs = require('../index.js')
  assert.equal(esm.createAuth, cjs.createAuth)
  assert.equal(esm.WxAuthError, WxAuthError)
  assert.equal(esm.default, cjs)
  assert.deepEqual(Object.keys(esm).sort(), ['RETRYABLE', 'WxAuthError', 'createAuth', 'default', 'isRetryable'])
  // By name (Node resolves a package's own name through its exports).
  assert.equal(require('@wechat-auth/client'), cjs)
  assert.equal((await import('@wechat-auth/client')).createAuth, cjs.createAuth)
  const pkg = require('../package.json')
  assert.deepEqual(pkg.exports['.'], { types: './index.d.ts', import: './index.mjs', require: './index.js' })
  for (const f of pkg.files) assert.ok(fs.existsSync(path.join(__dirname, '..', f)), f)
})

test('examples/miniprogram/wxauth.js is index.js, byte for byte (copy it again: cp client/index.js examples/miniprogram/wxauth.js)', () => {
  const root = path.join(__dirname, '..', '..')
  const copy = fs.readFileSync(path.join(root, 'examples', 'miniprogram', 'wxauth.js'))
  const source = fs.readFileSync(path.join(__dirname, '..', 'index.js'))
  assert.ok(copy.equals(source), 'examples/miniprogram/wxauth.js differs from client/index.js')
})
