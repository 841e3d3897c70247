'use strict'
// Stubs of each platform's API for the helper's tests: each has the
// platform's own shapes (login call and answer, app id call, request
// options and answer names, storage calls), and its request does real
// HTTP with fetch.

const fs = require('node:fs')
const assert = require('node:assert/strict')

const { WxAuthError } = require('../index.js')

// Every code handed out is new: codes are single use.
let seq = 0
const nonce = () => `${process.pid}x${++seq}`

const KINDS = ['wechat', 'qq', 'kuaishou', 'douyin', 'baidu', 'alipay', 'uni', 'taro']

// makeApi returns a stub of one platform's API object.
//   kind       one of KINDS ('uni' and 'taro': the framework's object)
//   user       the fake WeChat user the login logs in (codes ok-<user>.<nonce>)
//   code       a function giving the next login code instead (or a
//              promise of it: a code minted by a platform's fake)
//   loginErr   when set, the login fails with this errMsg
//   appId      what the platform's app id call answers (undefined: no such call)
//   afterLogin when set, an async hook given each token /wx/login hands
//              out, run before the request reports the answer
//   hold       when set, hold(call) may return a promise: the answer to
//              that call is reported once it settles
//   tokensFile when set, every token /wx/login hands out is appended there
//   uniPlatform  (uni) what getSystemInfoSync().uniPlatform says
//   env        (taro) what getEnv() says
//   phoneResponse (alipay) what my.getPhoneNumber gives as response; a
//              function is called for it; phoneErr: it fails with this
//   httpErrorFails (alipay) a status of 400 and above goes to fail
//              ({error: 19, ...}), with the status and body when it is 'full'
// It counts logins, records every request (calls: method, path, header,
// body) and the login options (loginOptions).
function makeApi(kind, opts = {}) {
  if (!KINDS.includes(kind)) throw new Error('no stub for ' + kind)
  const { user = 'alice', code, loginErr, appId, afterLogin, hold, tokensFile } = opts
  const alipay = kind === 'alipay'
  const storage = new Map()
  const stub = { kind, logins: 0, calls: [], loginOptions: [], storage }

  const nextCode = () => (code ? code() : `ok-${user}.${nonce()}`)
  function login(o) {
    stub.logins++
    stub.loginOptions.push(Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v !== 'function')))
    // Asynchronous, as the real ones are.
    setImmediate(async () => {
      const failWith = (msg) => o.fail(alipay ? { error: 11, errorMessage: msg } : { errMsg: msg })
      if (loginErr) return failWith(loginErr)
      let c
      try {
        c = await nextCode()
      } catch (e) {
        return failWith('login:fail ' + e.message)
      }
      if (alipay) o.success({ authCode: c, authSuccessScopes: ['auth_base'], authErrorScopes: {} })
      else if (kind === 'douyin') o.success({ code: c, anonymousCode: 'anon-' + c, isLogin: true, errMsg: 'login:ok' })
      else o.success({ code: c, errMsg: 'login:ok' })
    })
  }
  if (alipay) stub.getAuthCode = login
  else stub.login = login

  if (appId !== undefined) {
    if (['wechat', 'qq', 'kuaishou'].includes(kind)) stub.getAccountInfoSync = () => ({ miniProgram: { appId, envVersion: 'release' } })
    if (kind === 'douyin') stub.getEnvInfoSync = () => ({ microapp: { appId, mpVersion: '1', envType: 'production' } })
    if (kind === 'baidu') stub.getEnvInfoSync = () => ({ appKey: appId, appName: 'x' })
    if (alipay) stub.getAppIdSync = () => ({ appId })
  }
  if (kind === 'uni') stub.getSystemInfoSync = () => ({ uniPlatform: opts.uniPlatform })
  if (kind === 'taro') {
    stub.ENV_TYPE = { WEAPP: 'WEAPP', TT: 'TT', ALIPAY: 'ALIPAY', SWAN: 'SWAN', QQ: 'QQ', WEB: 'WEB' }
    stub.getEnv = () => opts.env
  }

  // request: GET data goes to the query string, other data is sent as
  // JSON; the answer's body is JSON-parsed when it is JSON (dataType
  // 'json'), left a string otherwise. Alipay's takes headers and answers
  // status and headers.
  stub.request = function request(o) {
    const { url, method = 'GET', data, success, fail } = o
    const header = (alipay ? o.headers : o.header) || {}
    const u = new URL(url)
    const headers = { ...header }
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json'
    let body
    if (data !== undefined && data !== null) {
      if (method === 'GET' || method === 'HEAD') {
        for (const [k, v] of Object.entries(data)) u.searchParams.append(k, String(v))
      } else {
        body = typeof data === 'string' ? data : JSON.stringify(data)
      }
    }
    const call = { method, path: u.pathname, header, body: body === undefined ? undefined : JSON.parse(body), options: o }
    stub.calls.push(call)
    fetch(u, { method, headers, body }).then(
      async (res) => {
        const text = await res.text()
        let parsed = text
        try {
          parsed = JSON.parse(text)
        } catch (e) {
          // not JSON: the platform hands the string over
        }
        if (u.pathname.endsWith('/wx/login') && res.status === 200) {
          if (tokensFile) fs.appendFileSync(tokensFile, parsed.token + '\n')
          if (afterLogin) await afterLogin(parsed.token)
        }
        if (hold) await hold(call)
        const hdrs = Object.fromEntries(res.headers)
        if (alipay) {
          if (res.status >= 400 && opts.httpErrorFails) {
            const err = { error: 19, errorMessage: 'http status error' }
            if (opts.httpErrorFails === 'full') Object.assign(err, { status: res.status, data: parsed, headers: hdrs })
            return fail(err)
          }
          return success({ status: res.status, data: parsed, headers: hdrs })
        }
        success({ statusCode: res.status, data: parsed, header: hdrs, errMsg: 'request:ok' })
      },
      (err) => {
        const msg = 'request:fail ' + (err.cause ? err.cause.message : err.message)
        fail(alipay ? { error: 12, errorMessage: msg } : { errMsg: msg })
      }
    )
  }

  if (alipay) {
    stub.getStorageSync = ({ key }) => ({ data: storage.has(key) ? storage.get(key) : null })
    stub.setStorageSync = ({ key, data }) => storage.set(key, data)
    stub.removeStorageSync = ({ key }) => storage.delete(key)
    stub.phoneCalls = 0
    stub.getPhoneNumber = ({ success, fail }) => {
      stub.phoneCalls++
      setImmediate(() => {
        if (opts.phoneErr) return fail({ error: 11, errorMessage: opts.phoneErr })
        const r = typeof opts.phoneResponse === 'function' ? opts.phoneResponse() : opts.phoneResponse
        success({ response: r })
      })
    }
  } else {
    stub.getStorageSync = (key) => (storage.has(key) ? storage.get(key) : '')
    stub.setStorageSync = (key, value) => storage.set(key, value)
    stub.removeStorageSync = (key) => storage.delete(key)
  }
  return stub
}

// forApi is createAuth's options for a stub: it is no global, so its
// platform (or uni's framework) is named; Taro is found by its shape.
function forApi(api) {
  if (api.kind === 'uni') return { api, framework: 'uni' }
  if (api.kind === 'taro') return { api }
  return { api, platform: api.kind }
}

// The global name of each platform's own object.
const GLOBALS = { wechat: 'wx', qq: 'qq', kuaishou: 'ks', douyin: 'tt', baidu: 'swan', alipay: 'my', uni: 'uni', taro: 'Taro' }

// withGlobals sets globals (name -> value) for the length of fn, then
// removes them again.
async function withGlobals(globals, fn) {
  const names = Object.keys(globals)
  for (const n of names) {
    if (n in globalThis) throw new Error('global ' + n + ' is set already')
    globalThis[n] = globals[n]
  }
  try {
    return await fn()
  } finally {
    for (const n of names) delete globalThis[n]
  }
}

// rejects awaits p, which must reject with a WxAuthError of that code and
// status; it returns the error.
async function rejects(p, code, status) {
  let err
  try {
    await p
  } catch (e) {
    err = e
  }
  assert.ok(err, `resolved; want a ${code} rejection`)
  assert.ok(err instanceof WxAuthError, `not a WxAuthError: ${err && err.stack}`)
  assert.equal(err.code, code, `code (message: ${err.message})`)
  assert.equal(err.status, status, 'status')
  assert.equal(typeof err.message, 'string')
  assert.ok(err.message.length > 0, 'empty message')
  return err
}

module.exports = { forApi, makeApi, nonce, KINDS, GLOBALS, withGlobals, rejects }
