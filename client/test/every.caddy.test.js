'use strict'
// The helper against the real Caddy's block of every platform (world.js's
// EVERY: one wechat_auth block serving WeChat's app and the demo apps of
// QQ, Douyin, Kuaishou, Baidu and Alipay, each in front of its real fake).
// The stub platform API's login returns a code minted by that platform's
// fake (its /fake/<name>/ control), the app_id the platform says at run
// time picks the app, and each platform's phone flow sends what its fake
// seals or signs.

const test = require('node:test')
const assert = require('node:assert/strict')

const { createAuth } = require('../index.js')
const { forApi, makeApi, nonce, rejects } = require('./stubs.js')
const { EVERY, EVERY_APPS, TOKENS_FILE, control, hdr } = require('./world.js')

const PHONE = '13600136000'

// mint asks the platform's fake for a login code of user for its app.
const q = (o) => new URLSearchParams(o).toString()
const MINT = {
  wechat: async (app, user) => `ok-${user}.${nonce()}`,
  qq: async (app, user) => (await control('/fake/qq/code', { app_id: app, user })).code,
  douyin: async (app, user) => (await control('/fake/douyin/code', { app_id: app, user })).code,
  kuaishou: async (app, user) => (await control('/fake/kuaishou/code', { app_id: app, user })).code,
  baidu: async (app, user) => (await control('/fake/baidu/mint?' + q({ app_key: app, user }))).code,
  alipay: async (app, user) => (await control('/fake/alipay/mint?' + q({ app_id: app, user }))).code,
}
const PLATFORMS = Object.keys(MINT)

// sealed asks the platform's fake to seal the phone with the user's
// session_key (the platform's phone button's {encryptedData, iv}).
const SEAL = {
  qq: (app, user) => control('/fake/qq/encrypt', { app_id: app, user, phone: PHONE, country_code: '86' }),
  kuaishou: (app, user) => control('/fake/kuaishou/encrypt', { app_id: app, user, phone: PHONE, country_code: '86' }),
  douyin: (app, user) => control('/fake/douyin/encrypt', { app_id: app, user, phone: PHONE, country_code: '86', watermark_appid: app }),
  baidu: (app, user) => control('/fake/baidu/seal?' + q({ app_key: app, user, mobile: PHONE, trailer: app })),
}

// alipayAnswer is my.getPhoneNumber's response string from the fake
// (variant: ok, nosign, badsign, 40003, wrongkey).
const alipayAnswer = async (variant = 'ok') =>
  (await control('/fake/alipay/phone?' + q({ app_id: EVERY_APPS.alipay, mobile: PHONE, variant }))).response

// stub is the platform's API whose logins are user's codes from its fake
// and whose app id call answers that platform's app in EVERY.
function stub(kind, user, extra = {}) {
  const appId = EVERY_APPS[kind]
  return makeApi(kind, { appId, code: () => MINT[kind](appId, user), tokensFile: TOKENS_FILE, ...extra })
}
const authFor = (api) => createAuth({ baseURL: EVERY, ...forApi(api) })

for (const kind of PLATFORMS) {
  test(`${kind}: one block of every platform; the app_id from the platform picks the app, the identity is that platform's`, async () => {
    const api = stub(kind, 'nora')
    const auth = authFor(api)
    assert.equal(auth.platform, kind)
    await auth.login()
    assert.equal(api.calls[0].body.app_id, EVERY_APPS[kind])
    const sess = await auth.session()
    assert.equal(sess.app_id, EVERY_APPS[kind])
    assert.equal(sess.platform, kind)
    assert.equal(sess.phone_bound, false)
    const res = await auth.request({ url: '/api/who' })
    assert.equal(res.statusCode, 200)
    assert.equal(hdr(res, 'X-Wx-Platform'), kind)
    assert.equal(hdr(res, 'X-Wx-Appid'), EVERY_APPS[kind])
    assert.ok(hdr(res, 'X-Wx-Openid'))
    assert.equal(res.data.path, '/api/who', 'handle_path strips /every')
    await auth.logout()
    assert.equal(auth.token(), '')
  })
}

test('a block of many apps: no app_id is missing_app_id, an app it does not serve unknown_app', async () => {
  // A platform that does not say (an old base library), no option: the
  // server cannot pick.
  const old = stub('wechat', 'nora', { appId: undefined })
  await rejects(authFor(old).login(), 'missing_app_id', 400)
  assert.equal(old.calls[0].body.app_id, undefined)
  // The option names an app the block does not serve.
  const other = stub('wechat', 'nora')
  await rejects(createAuth({ baseURL: EVERY, ...forApi(other), appId: 'wxnotserved00000' }).login(), 'unknown_app', 400)
})

for (const kind of ['qq', 'kuaishou', 'baidu', 'douyin']) {
  test(`${kind}: bindPhone sends the data its fake sealed with the session's key; the phone comes back`, async () => {
    const api = stub(kind, 'olga')
    const auth = authFor(api)
    await auth.login()
    const sealed = await SEAL[kind](EVERY_APPS[kind], 'olga')
    const phone = await auth.bindPhone({ type: 'getphonenumber', detail: { errMsg: 'getPhoneNumber:ok', ...sealed } })
    assert.equal(phone.pure_phone_number, PHONE)
    assert.equal(auth.phoneBound, true)
    assert.deepEqual(api.calls.find((c) => c.path === '/every/wx/phone').body, { encryptedData: sealed.encryptedData, iv: sealed.iv })
    assert.equal(hdr(await auth.request({ url: '/api/x' }), 'X-Wx-Phone'), PHONE)
    // Sealed for another user (another session_key): it does not open.
    await auth.login()
    await authFor(stub(kind, 'pete')).login()
    const theirs = await SEAL[kind](EVERY_APPS[kind], 'pete')
    await rejects(auth.bindPhone({ detail: { errMsg: 'getPhoneNumber:ok', ...theirs } }), 'undecryptable_data', 400)
  })
}

test("douyin: the phone code from its fake goes first, even next to sealed data; used twice it is invalid_phone_code", async () => {
  const api = stub('douyin', 'quinn')
  const auth = authFor(api)
  await auth.login()
  const { code } = await control('/fake/douyin/phone_code', { app_id: EVERY_APPS.douyin, phone: PHONE })
  const detail = { errMsg: 'getPhoneNumber:ok', code, encryptedData: 'eA==', iv: 'eQ==' }
  const phone = await auth.bindPhone({ detail })
  assert.equal(phone.pure_phone_number, PHONE)
  assert.deepEqual(api.calls.find((c) => c.path === '/every/wx/phone').body, { code })
  assert.equal(hdr(await auth.request({ url: '/api/x' }), 'X-Wx-Phone'), PHONE)
  await rejects(auth.bindPhone({ detail }), 'invalid_phone_code', 400)
  await rejects(auth.bindPhone({ detail: { errMsg: 'getPhoneNumber:fail auth deny' } }), 'phone_denied', 0)
})

test("alipay: bindPhone calls my.getPhoneNumber, sends the fake's signed answer as {response, sign}; the phone comes back", async () => {
  const answer = await alipayAnswer()
  const my = stub('alipay', 'rosa', { phoneResponse: answer })
  const auth = authFor(my)
  const phone = await auth.bindPhone()
  assert.equal(phone.pure_phone_number, PHONE)
  assert.equal(my.phoneCalls, 1)
  const outer = JSON.parse(answer)
  const sent = my.calls.find((c) => c.path === '/every/wx/phone')
  assert.deepEqual(sent.body, { response: outer.response, sign: outer.sign })
  assert.equal(sent.options.headers.Authorization, 'Bearer ' + auth.token())
  assert.equal(hdr(await auth.request({ url: '/api/x' }), 'X-Wx-Phone'), PHONE)
  // An event carrying the response is used as is, without asking again.
  const again = await auth.bindPhone({ detail: { response: await alipayAnswer() } })
  assert.equal(again.pure_phone_number, PHONE)
  assert.equal(my.phoneCalls, 1)
})

test("alipay: the fake's bad answers surface as the client's errors", async () => {
  for (const [variant, code, status] of [
    ['40003', 'no_phone_number', 400], // the user did not authorize
    ['badsign', 'wechat_bad_response', 502],
    ['wrongkey', 'undecryptable_data', 400],
    // no sign (the app set no signing keys): the client sends
    // {response} alone; nothing to verify, so no phone
    ['nosign', 'wechat_bad_response', 502],
  ]) {
    const my = stub('alipay', 'sam', { phoneResponse: await alipayAnswer(variant) })
    await rejects(authFor(my).bindPhone(), code, status)
  }
})

test('alipay: the server also takes the whole response string as {response}, the sign inside it', async () => {
  const auth = authFor(stub('alipay', 'tina'))
  await auth.login()
  const send = async (variant) => {
    const res = await fetch(EVERY + '/wx/phone', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + auth.token() },
      body: JSON.stringify({ response: await alipayAnswer(variant) }),
    })
    return { status: res.status, data: await res.json() }
  }
  const bad = await send('badsign')
  assert.deepEqual([bad.status, bad.data.error], [502, 'wechat_bad_response'])
  const good = await send('ok')
  assert.equal(good.status, 200)
  assert.equal(good.data.pure_phone_number, PHONE)
  assert.equal((await auth.session()).phone_bound, true)
})
