'use strict'
// The helper on every platform's API shapes (QQ, Kuaishou, Douyin, Baidu,
// Alipay, uni-app, Taro) against the real Caddy of world.js. That Caddy
// serves one WeChat app, so the login codes are the fake WeChat's: what is
// tested here is the client's side of each platform (its login call, the
// app id call, request and answer names, storage, the phone event), over
// real HTTP to a real wechat_auth. Each platform's own logins and phone
// flows, through its real fake, are in every.caddy.test.js.

const test = require('node:test')
const assert = require('node:assert/strict')

const { createAuth } = require('../index.js')
const { forApi, makeApi, nonce, rejects, withGlobals } = require('./stubs.js')
const { BASE, APP_ID, TOKENS_FILE, sealPhone, hdr } = require('./world.js')

// Each case: the API object the helper is given, the globals around it,
// the platform it must find, and what its login and phone must look like.
//   make(user)  -> { api, globals, native }  (native: the object that
//                  answers the app id call and keeps count of logins)
//   phone       'code' or 'sealed': what the platform's button gives
const stub = (kind, user, extra) => makeApi(kind, { user, appId: APP_ID, tokensFile: TOKENS_FILE, ...extra })
const CASES = [
  { name: 'QQ (qq)', platform: 'qq', phone: 'sealed', make: (u) => ({ api: stub('qq', u) }) },
  { name: 'Kuaishou (ks)', platform: 'kuaishou', phone: 'sealed', make: (u) => ({ api: stub('kuaishou', u) }) },
  { name: 'Douyin (tt)', platform: 'douyin', phone: 'code', make: (u) => ({ api: stub('douyin', u) }) },
  { name: 'Baidu (swan)', platform: 'baidu', phone: 'sealed', make: (u) => ({ api: stub('baidu', u) }) },
  { name: 'Alipay (my)', platform: 'alipay', phone: null, make: (u) => ({ api: stub('alipay', u) }) },
  {
    name: 'uni-app on WeChat',
    platform: 'wechat',
    phone: 'code',
    make: (u) => {
      const wx = makeApi('wechat', { appId: APP_ID })
      return { api: stub('uni', u, { uniPlatform: 'mp-weixin', appId: undefined }), globals: { wx } }
    },
  },
  {
    name: 'uni-app on Douyin',
    platform: 'douyin',
    phone: 'code',
    make: (u) => {
      const tt = makeApi('douyin', { appId: APP_ID })
      return { api: stub('uni', u, { uniPlatform: 'mp-toutiao', appId: undefined }), globals: { tt } }
    },
  },
  {
    name: 'Taro on WeChat',
    platform: 'wechat',
    phone: 'code',
    make: (u) => {
      const wx = makeApi('wechat', { appId: APP_ID })
      return { api: stub('taro', u, { env: 'WEAPP', appId: undefined }), globals: { wx } }
    },
  },
  {
    name: 'Taro on Alipay',
    platform: 'alipay',
    phone: null,
    make: (u) => {
      const my = makeApi('alipay', { appId: APP_ID })
      return { api: stub('taro', u, { env: 'ALIPAY', appId: undefined }), globals: { my } }
    },
  },
]

const paths = (api) => api.calls.map((c) => c.path)

for (const c of CASES) {
  test(`${c.name}: login sends the platform's code and app id; request carries the token`, async () => {
    const { api, globals = {} } = c.make('alice')
    await withGlobals(globals, async () => {
      const auth = createAuth({ baseURL: BASE, ...forApi(api) })
      assert.equal(auth.platform, c.platform)
      const tok = await auth.login()
      assert.ok(tok.length >= 22)
      assert.equal(api.logins, 1)
      const sent = api.calls[0]
      assert.equal(sent.path, '/wx/login')
      assert.match(sent.body.code, /^ok-alice\./)
      assert.equal(sent.body.app_id, APP_ID, 'app_id from the platform at run time')
      if (api.kind === 'douyin') assert.equal(sent.body.anonymous_code, 'anon-' + sent.body.code)
      else assert.equal(sent.body.anonymous_code, undefined)
      // The login call's options, per platform.
      const loginOpts = api.loginOptions[0]
      if (api.kind === 'alipay') assert.deepEqual(loginOpts, { scopes: 'auth_base' })
      else if (api.kind === 'uni' && c.platform === 'wechat') assert.deepEqual(loginOpts, { provider: 'weixin' })
      else assert.deepEqual(loginOpts, {})
      // Alipay's own my.request takes headers; every other one header.
      if (api.kind === 'alipay') {
        assert.equal(sent.options.header, undefined)
        assert.equal(sent.options.headers['Content-Type'], 'application/json')
      } else {
        assert.equal(sent.options.headers, undefined)
        assert.equal(sent.options.header['Content-Type'], 'application/json')
      }
      // The token is in the platform's storage (Alipay's: {key, data}).
      assert.equal(api.storage.get('wxauth_token'), tok)
      assert.equal(auth.token(), tok)

      const res = await auth.request({ url: '/api/orders', data: { page: 1 } })
      assert.equal(res.statusCode, 200, 'statusCode, whatever the platform calls it')
      assert.equal(typeof res.header, 'object')
      assert.equal(res.data.query, 'page=1')
      assert.ok(hdr(res, 'X-Wx-Openid'))
      assert.equal(api.calls[1].options[api.kind === 'alipay' ? 'headers' : 'header'].Authorization, 'Bearer ' + tok)
      await auth.logout()
      assert.equal(auth.token(), '')
      assert.equal(api.storage.has('wxauth_token'), false)
      assert.deepEqual(paths(api), ['/wx/login', '/api/orders', '/wx/logout'])
    })
  })

  test(`${c.name}: a 401 logs in again once and retries once`, async () => {
    const { api, globals = {} } = c.make('bob')
    await withGlobals(globals, async () => {
      const auth = createAuth({ baseURL: BASE, ...forApi(api) })
      api.storage.set('wxauth_token', 'junk-token')
      const res = await auth.request({ url: '/api/x' })
      assert.equal(res.statusCode, 200)
      assert.equal(api.logins, 1)
      assert.deepEqual(paths(api), ['/api/x', '/wx/login', '/api/x'])
    })
  })

  if (c.phone) {
    test(`${c.name}: bindPhone sends what the phone button gives`, async () => {
      const { api, globals = {} } = c.make('dave')
      await withGlobals(globals, async () => {
        const auth = createAuth({ baseURL: BASE, ...forApi(api) })
        await auth.login()
        let detail
        if (c.phone === 'code') {
          detail = { errMsg: 'getPhoneNumber:ok', code: `phone-13800138000.${nonce()}` }
        } else {
          // QQ, Kuaishou and Baidu send encryptedData and iv only, even
          // next to a code.
          detail = { errMsg: 'getPhoneNumber:ok', code: 'not-sent', ...(await sealPhone('dave', '13800138000')) }
        }
        const phone = await auth.bindPhone({ type: 'getphonenumber', detail })
        assert.equal(phone.pure_phone_number, '13800138000')
        assert.equal(auth.phoneBound, true)
        const sent = api.calls.find((x) => x.path === '/wx/phone')
        if (c.phone === 'code') assert.deepEqual(sent.body, { code: detail.code })
        else assert.deepEqual(sent.body, { encryptedData: detail.encryptedData, iv: detail.iv })
        const res = await auth.request({ url: '/phone/x' })
        assert.equal(hdr(res, 'X-Wx-Phone'), '13800138000')
      })
    })
  }
}

test('QQ, Kuaishou, Baidu: a code alone is no phone (they send encryptedData): phone_denied, nothing sent', async () => {
  for (const kind of ['qq', 'kuaishou', 'baidu']) {
    const api = stub(kind, 'erin')
    const auth = createAuth({ baseURL: BASE, api, platform: kind })
    await rejects(auth.bindPhone({ detail: { errMsg: 'getPhoneNumber:ok', code: 'phone-13800138000' } }), 'phone_denied', 0)
    // WeChat's errnos mean nothing here.
    await rejects(auth.bindPhone({ detail: { errMsg: 'getPhoneNumber:fail', errno: 104 } }), 'phone_denied', 0)
    assert.equal(api.calls.length, 0)
  }
})

test('Alipay: my.request failing a 401 (error 19) with the answer still logs in again', async () => {
  const api = stub('alipay', 'carol', { httpErrorFails: 'full' })
  const auth = createAuth({ baseURL: BASE, ...forApi(api) })
  api.storage.set('wxauth_token', 'junk-token')
  const res = await auth.request({ url: '/api/x' })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(paths(api), ['/api/x', '/wx/login', '/api/x'])
  // Without the answer, there is nothing to go on: http_error, status 0.
  const bare = stub('alipay', 'carol', { httpErrorFails: true })
  const auth2 = createAuth({ baseURL: BASE, ...forApi(bare) })
  bare.storage.set('wxauth_token', 'junk-token')
  const err = await rejects(auth2.request({ url: '/api/x' }), 'http_error', 0)
  assert.match(err.message, /http status error/)
  assert.deepEqual(paths(bare), ['/api/x'])
})
