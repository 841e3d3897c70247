'use strict'
/**
 * @wechat-auth/client: the mini program side of wechat_auth, for every
 * platform it serves: WeChat (wx), QQ (qq), Douyin (tt), Kuaishou (ks),
 * Baidu (swan), Alipay (my), and uni-app (uni) or Taro on top of any of
 * them. No dependencies, no build step: install the package (or copy this
 * one file: examples/miniprogram/wxauth.js is this file). It uses ES2017
 * (class, async/await): if your DevTools project compiles ES6 to ES5, turn
 * on "enhanced compile".
 *
 *   const { createAuth, WxAuthError, isRetryable } = require('@wechat-auth/client')
 *   // or: import { createAuth } from '@wechat-auth/client'
 *   const auth = createAuth({
 *     baseURL: 'https://api.example.com', // where wechat_auth answers /wx/login
 *     // all optional:
 *     platform: 'douyin',    // wechat|qq|douyin|kuaishou|baidu|alipay; found when left out
 *     api: tt,               // the object with the platform's calls (wx, tt, my, uni, Taro...)
 *     appId: 'tt0123456789', // default: read from the platform at run time (below)
 *     storageKey: 'wxauth_token', // the storage key of the token
 *   })
 *
 * Finding the platform: with no `api`, a global `uni` (uni-app) is used
 * first, then the platform's own global: qq, tt, ks, swan, my, wx (qq
 * before wx: QQ also defines wx as an alias of qq). `api` may be the
 * platform's own object, or uni-app's `uni`, or Taro (import Taro from
 * '@tarojs/taro': Taro is no global). Under uni-app the platform is
 * uni.getSystemInfoSync().uniPlatform ('mp-weixin', 'mp-toutiao', ...),
 * under Taro Taro.getEnv() ('WEAPP', 'TT', ...); where that says nothing
 * known, the platform's global decides. `platform` overrides all of it.
 * (The old `wx` option still works: it is `api` with platform 'wechat'.)
 *
 *   platform  login call                                app_id at run time
 *   wechat    wx.login -> code                          wx.getAccountInfoSync().miniProgram.appId
 *   qq        qq.login -> code                          qq.getAccountInfoSync().miniProgram.appId
 *   douyin    tt.login -> code (and anonymousCode)      tt.getEnvInfoSync().microapp.appId
 *   kuaishou  ks.login -> code                          ks.getAccountInfoSync().miniProgram.appId
 *   baidu     swan.login -> code                        swan.getEnvInfoSync().appKey
 *   alipay    my.getAuthCode({scopes: 'auth_base'})     my.getAppIdSync().appId
 *             -> authCode
 * Under uni-app and Taro the login and the requests go through uni / Taro
 * (uni.login, Taro.login, uni.request, Taro.request, their storage); the
 * app id comes from the platform's own global under them.
 *
 *   await auth.login()
 *     The platform's login -> POST /wx/login {"code", "app_id"} (and
 *     "anonymous_code" on Douyin when tt.login gives one; "app_id" is left
 *     out when neither the option nor the platform gives one: the server
 *     then uses the block's only app). The token is kept in the platform's
 *     storage. Resolves with the token. Calls made while a login is under
 *     way share it (one platform login, one POST), whoever started it.
 *
 *   auth.phoneBound
 *     true when the server said the user's phone is bound (the login's
 *     `phone_bound`, or a bindPhone that succeeded, or auth.session()):
 *     don't show the billed phone button again. false when it said not;
 *     undefined before the helper has heard from the server in this run
 *     (a token from storage: call auth.session()).
 *
 *   const s = await auth.session()
 *     GET /wx/session with the token (logging in first when there is none,
 *     and once more on a 401, as request does). Resolves with the server's
 *     {app_id, platform, expires_in, phone_bound} (expires_in: seconds the
 *     session has left) and updates auth.phoneBound.
 *
 *   const res = await auth.request({ url: '/api/orders', method: 'GET', data, header })
 *     The platform's request to baseURL + url (url is a path, starting
 *     with '/') with Authorization: Bearer <token>. Logs in first when
 *     there is no token. On a 401 (wechat_auth's or your backend's) it logs
 *     in again ONCE and retries ONCE; a second 401 rejects. Other statuses
 *     (403 phone_required, 5xx...) never trigger a login.
 *     Resolves with {statusCode, data, header} for a status below 400 (the
 *     same names on every platform: Alipay's status/headers are renamed);
 *     rejects with a WxAuthError for 400 and above (err.data holds the body).
 *
 *   const phone = await auth.bindPhone(event)
 *     Sends the phone the platform handed over to POST /wx/phone and
 *     resolves with the server's {phone_number, pure_phone_number,
 *     country_code}. event is the phone button's event, as it is:
 *       wechat    <button open-type="getPhoneNumber" bindgetphonenumber>:
 *                 detail.code -> {"code"}; else detail.encryptedData and
 *                 detail.iv -> {"encryptedData", "iv"}
 *       douyin    the same (code: base library 3.51 and later)
 *       qq, kuaishou, baidu  detail.encryptedData, detail.iv -> {"encryptedData", "iv"}
 *       alipay    no event needed (call it from the onGetAuthorize handler of
 *                 <button open-type="getAuthorize" scope="phoneNumber">): it
 *                 calls my.getPhoneNumber and sends its response: the
 *                 string is JSON {"response", "sign", ...}, sent as
 *                 {"response": <its response>, "sign": <its sign>}; a
 *                 string that is not such JSON is sent as {"response": <it>}.
 *                 An event whose detail.response is a string is used as is.
 *     Without a phone it sends nothing and rejects, on WeChat by the
 *     event's errno: 1400001 'phone_quota_exhausted' (the app's paid
 *     getPhoneNumber quota is spent: not the user's doing), 104
 *     'privacy_denied' (the user declined the privacy prompt), 112
 *     'privacy_not_declared' (the phone API is not declared in the app's
 *     privacy guide: the developer's mistake, fix the mini program's
 *     settings); any other event without a phone (and on the other
 *     platforms, every one): 'phone_denied' (the user refused).
 *     The server's 400 session_key_expired (the encryptedData was sealed
 *     with a session_key WeChat has dropped): it logs in again with a
 *     fresh platform login and sends the same data ONCE more by itself.
 *
 *   await auth.logout()
 *     POST /wx/logout, then forgets the token. The token is forgotten in
 *     every case; the promise resolves on 204 or 401 (the token was dead
 *     already) and rejects when the server could not confirm (network
 *     failure, 5xx): the session may then live on the server until it expires.
 *
 *   auth.token()    // the current token, or ''
 *   auth.platform   // the platform word: 'wechat', 'douyin', ...
 *
 * Errors: every rejection of this module is a WxAuthError (bad arguments
 * aside: a TypeError), with
 *   .status  the HTTP status, 0 when no answer came (network, login call)
 *   .code    the server's JSON "error" code ('invalid_code', 'wechat_busy',
 *            'phone_required', ...), or one of the client's own:
 *            'network_error'  the platform's request failed (no answer)
 *            'login_failed'   the platform's login failed
 *            'phone_denied'   the phone event carries no phone (the user refused)
 *            'phone_quota_exhausted'  WeChat: no phone, because the app's
 *                             getPhoneNumber quota is spent (errno 1400001)
 *            'privacy_denied' WeChat: the user declined the privacy prompt (errno 104)
 *            'privacy_not_declared'  WeChat: getPhoneNumber is not declared in
 *                             the app's privacy guide (errno 112)
 *            'http_error'     an error answer without a JSON "error" code
 *            'bad_response'   /wx/login answered 200 without a token
 *   .message the server's "message", or the platform's errMsg
 *   .data, .header  the answer's body and headers, when there was an answer
 *   .retryAfter  when the answer had a Retry-After in seconds (429, 503):
 *            how many seconds to wait before trying again; else undefined
 * RETRYABLE is the set of codes worth retrying later (429, 502, 503, 504);
 * isRetryable(err) tells whether err is one of them (an error answer of
 * status 429/502/503/504 without a JSON code counts too). The helper never
 * retries them by itself.
 *
 * 429 too_many_failures: the platform refused too many codes from this
 * client's address (wechat_auth's failure_limit); logins and phone
 * bindings from it are held until err.retryAfter seconds have passed.
 * Retryable, but not now: tell the user to try again in err.retryAfter
 * seconds (a retry sooner gets the same answer).
 */

// The server's codes for "try again later" (statuses 429, 502, 503, 504).
// wechat_config_error (502) is left out: it needs the operator, not time.
const RETRYABLE = new Set([
  'rate_limited',
  'too_many_failures',
  'wechat_busy',
  'wechat_timeout',
  'wechat_unreachable',
  'wechat_bad_response',
  'wechat_error',
  'session_store_full',
  'session_store_unavailable',
])

const RETRYABLE_STATUS = new Set([429, 502, 503, 504])

// WeChat's getPhoneNumber errnos that are not the user's refusal.
const WECHAT_PHONE_ERRNO = {
  1400001: ['phone_quota_exhausted', "the mini program's getPhoneNumber quota is spent (errno 1400001)"],
  104: ['privacy_denied', 'the user declined the privacy prompt (errno 104)'],
  112: ['privacy_not_declared', "getPhoneNumber is not declared in the mini program's privacy guide (errno 112)"],
}

class WxAuthError extends Error {
  constructor(status, code, message, answer) {
    super(message || code)
    this.name = 'WxAuthError'
    this.status = status
    this.code = code
    if (answer) {
      this.data = answer.data
      this.header = answer.header
      const wait = retryAfter(answer.header)
      if (wait !== undefined) this.retryAfter = wait
    }
  }
}

// retryAfter reads a Retry-After header given in seconds (header names
// may come in any case); undefined when there is none.
function retryAfter(header) {
  for (const name of Object.keys(header || {})) {
    if (name.toLowerCase() !== 'retry-after') continue
    const v = String(header[name]).trim()
    if (/^\d+$/.test(v)) return Number(v)
  }
  return undefined
}

function isRetryable(err) {
  if (!err || typeof err.code !== 'string') return false
  if (RETRYABLE.has(err.code)) return true
  // A proxy in front may answer 502/503/504 with no JSON body.
  return err.code === 'http_error' && RETRYABLE_STATUS.has(err.status)
}

// errorFrom turns an error answer into a WxAuthError, using the server's
// {"error", "message"} when the body is that JSON.
function errorFrom(res) {
  const body = res.data
  if (body && typeof body === 'object' && typeof body.error === 'string' && body.error) {
    return new WxAuthError(res.statusCode, body.error, typeof body.message === 'string' ? body.message : '', res)
  }
  return new WxAuthError(res.statusCode, 'http_error', 'HTTP ' + res.statusCode, res)
}

// errText is the message of a platform's failure callback argument.
function errText(err, fallback) {
  if (err && typeof err.errMsg === 'string' && err.errMsg) return err.errMsg
  if (err && typeof err.errorMessage === 'string' && err.errorMessage) {
    return err.errorMessage + (err.error !== undefined ? ' (error ' + err.error + ')' : '')
  }
  return fallback
}

// ---- Platforms ----

// The platform's own calls that differ: where its global lives, how the
// app id is read, how the login code is asked for, how storage and the
// phone event look.
const accountInfoAppId = (api) => api.getAccountInfoSync().miniProgram.appId
const envInfoMicroappId = (api) => api.getEnvInfoSync().microapp.appId
const envInfoAppKey = (api) => api.getEnvInfoSync().appKey
const alipayAppId = (api) => api.getAppIdSync().appId

const PLATFORMS = {
  wechat: { global: 'wx', appId: accountInfoAppId, phone: 'code', errnos: true },
  qq: { global: 'qq', appId: accountInfoAppId, phone: 'sealed' },
  douyin: { global: 'tt', appId: envInfoMicroappId, phone: 'code' },
  kuaishou: { global: 'ks', appId: accountInfoAppId, phone: 'sealed' },
  baidu: { global: 'swan', appId: envInfoAppKey, phone: 'sealed' },
  alipay: { global: 'my', appId: alipayAppId, phone: 'alipay', authCode: true, objectStorage: true, headers: true },
}

// The globals looked for, in order (qq first: QQ aliases wx to qq).
const DETECT_ORDER = ['qq', 'douyin', 'kuaishou', 'baidu', 'alipay', 'wechat']

// What uni-app's uniPlatform and Taro's getEnv() say, as platform words.
const UNI_PLATFORMS = {
  'mp-weixin': 'wechat',
  'mp-qq': 'qq',
  'mp-toutiao': 'douyin',
  'mp-kuaishou': 'kuaishou',
  'mp-baidu': 'baidu',
  'mp-alipay': 'alipay',
}
const TARO_ENVS = { WEAPP: 'wechat', QQ: 'qq', TT: 'douyin', KWAI: 'kuaishou', SWAN: 'baidu', ALIPAY: 'alipay' }
// uni.login's provider for the platforms its typings name.
const UNI_PROVIDERS = { wechat: 'weixin', qq: 'qq' }

// globalNamed looks a global up by name. Mini program globals are
// globals of the script, not always properties of globalThis, and mini
// programs forbid Function and eval: each name is spelled out.
/* eslint-disable no-undef */
function globalNamed(name) {
  const found = {
    wx: typeof wx !== 'undefined' ? wx : undefined,
    qq: typeof qq !== 'undefined' ? qq : undefined,
    tt: typeof tt !== 'undefined' ? tt : undefined,
    ks: typeof ks !== 'undefined' ? ks : undefined,
    swan: typeof swan !== 'undefined' ? swan : undefined,
    my: typeof my !== 'undefined' ? my : undefined,
    uni: typeof uni !== 'undefined' ? uni : undefined,
    Taro: typeof Taro !== 'undefined' ? Taro : undefined,
  }
  return found[name]
}
/* eslint-enable no-undef */

const isTaro = (api) => !!api && typeof api.getEnv === 'function' && !!api.ENV_TYPE

// nativeGlobal is the platform's own global object, or undefined.
const nativeGlobal = (platform) => globalNamed(PLATFORMS[platform].global)

function detectNative() {
  return DETECT_ORDER.find((p) => {
    const g = nativeGlobal(p)
    return g && typeof g === 'object'
  })
}

// resolve picks the platform, the object whose calls are used, and the
// framework (uni or taro) from the options.
function resolve(opts) {
  let api = opts.api || opts.wx
  let platform = opts.platform || (opts.wx && !opts.api ? 'wechat' : undefined)
  if (platform !== undefined && !PLATFORMS[platform]) {
    throw new TypeError(
      'wxauth: platform ' + JSON.stringify(platform) + ' is not one of ' + Object.keys(PLATFORMS).join(', ')
    )
  }
  if (opts.framework !== undefined && opts.framework !== 'uni') {
    throw new TypeError('wxauth: framework ' + JSON.stringify(opts.framework) + " is not 'uni' (Taro is found by itself)")
  }
  let framework
  if (!api) {
    const uni = globalNamed('uni')
    if (uni && typeof uni.login === 'function') {
      api = uni
      framework = 'uni'
    } else {
      const taro = globalNamed('Taro')
      if (isTaro(taro)) {
        api = taro
        framework = 'taro'
      }
    }
  } else if (isTaro(api)) {
    framework = 'taro'
  } else if (api === globalNamed('uni') || opts.framework === 'uni') {
    framework = 'uni'
  }
  if (!platform && framework === 'uni') {
    try {
      platform = UNI_PLATFORMS[api.getSystemInfoSync().uniPlatform]
    } catch (e) {
      // an older uni-app: the globals below decide
    }
  }
  if (!platform && framework === 'taro') {
    try {
      platform = TARO_ENVS[api.getEnv()]
    } catch (e) {
      // the globals below decide
    }
  }
  if (!platform && api && !framework) {
    platform = DETECT_ORDER.find((p) => nativeGlobal(p) === api)
  }
  if (!platform) platform = detectNative()
  if (!platform) {
    throw new TypeError(
      'wxauth: no mini program platform found (none of the globals wx, qq, tt, ks, swan, my, uni): ' +
        'pass options.api and options.platform outside a mini program'
    )
  }
  if (!api) api = nativeGlobal(platform)
  if (!api) {
    throw new TypeError('wxauth: no ' + PLATFORMS[platform].global + ' object (pass options.api outside a mini program)')
  }
  // The platform's own object, for the calls uni and Taro do not wrap
  // (app id, Alipay's getPhoneNumber).
  const native = framework ? nativeGlobal(platform) : api
  return { platform, api, framework, native }
}

// callback calls fn(options) with success/fail callbacks as a promise.
function callback(fn, thisArg, options) {
  return new Promise((resolve, reject) => {
    fn.call(thisArg, Object.assign({}, options, { success: resolve, fail: reject }))
  })
}

function createAuth(options) {
  const opts = options || {}
  if (typeof opts.baseURL !== 'string' || !/^https?:\/\//.test(opts.baseURL)) {
    throw new TypeError('wxauth: baseURL must be an http(s) URL')
  }
  if (opts.appId !== undefined && (typeof opts.appId !== 'string' || !opts.appId)) {
    throw new TypeError('wxauth: appId must be a non-empty string')
  }
  const { platform, api, framework, native } = resolve(opts)
  const spec = PLATFORMS[platform]
  // uni and Taro give every platform wx's shapes (storage by key, header).
  const wxShapes = !!framework || !spec.objectStorage
  const baseURL = opts.baseURL.replace(/\/+$/, '')
  const storageKey = opts.storageKey || 'wxauth_token'

  // The one login under way, shared by every caller until it settles.
  let loginInFlight = null
  // What the server last said of the phone (undefined: nothing yet).
  let phoneBound

  // The token lives in storage only (so it survives restarts and there is
  // one truth); a missing key reads as ''.
  function token() {
    try {
      const t = wxShapes ? api.getStorageSync(storageKey) : (api.getStorageSync({ key: storageKey }) || {}).data
      return typeof t === 'string' ? t : ''
    } catch (e) {
      return ''
    }
  }
  function setToken(t) {
    if (wxShapes) api.setStorageSync(storageKey, t)
    else api.setStorageSync({ key: storageKey, data: t })
  }
  function forgetToken() {
    try {
      if (wxShapes) api.removeStorageSync(storageKey)
      else api.removeStorageSync({ key: storageKey })
    } catch (e) {
      // nothing to do: storage is gone, and so is the token
    }
  }

  // appId is the app id to send: the option, else the platform's own
  // call, else '' (not sent).
  function appId() {
    if (opts.appId) return opts.appId
    for (const source of [native, api]) {
      try {
        const id = source && spec.appId(source)
        if (typeof id === 'string' && id) return id
      } catch (e) {
        // this one does not know: try the next
      }
    }
    return ''
  }

  // send is the platform's request as a promise. It resolves with every
  // answer (any status), as {statusCode, data, header}, and rejects only
  // when none came.
  function send(req) {
    const url = req.url
    if (typeof url !== 'string' || url[0] !== '/') {
      return Promise.reject(new TypeError('wxauth: url must be a path starting with "/", got ' + String(url)))
    }
    const call = {
      url: baseURL + url,
      method: req.method || 'GET',
      data: req.data,
      dataType: 'json',
    }
    // Alipay's own my.request takes headers (header only in newer versions).
    call[spec.headers && !framework ? 'headers' : 'header'] = req.header || {}
    return callback(api.request, api, call).then(answer, (err) => {
      // Alipay's my.request fails a status of 400 and above (error 19);
      // where it gives the answer, it is an answer.
      if (err && typeof (err.statusCode || err.status) === 'number') return answer(err)
      // Where it does not, there was an answer, of a status unknown.
      if (err && err.error === 19) throw new WxAuthError(0, 'http_error', errText(err, 'HTTP error') + ' (no status given)')
      throw new WxAuthError(0, 'network_error', errText(err, 'request failed'))
    })
  }
  function answer(res) {
    let data = res.data
    if (typeof data === 'string' && /^\s*[{[]/.test(data)) {
      try {
        data = JSON.parse(data)
      } catch (e) {
        // not JSON after all: leave it a string
      }
    }
    const statusCode = typeof res.statusCode === 'number' ? res.statusCode : res.status
    return { statusCode, data, header: res.header || res.headers || {} }
  }

  // withBearer copies header, dropping any Authorization the caller set
  // (whatever its case), and adds ours.
  function withBearer(header, tok) {
    const h = {}
    for (const name of Object.keys(header || {})) {
      if (name.toLowerCase() !== 'authorization') h[name] = header[name]
    }
    h.Authorization = 'Bearer ' + tok
    return h
  }

  // platformLogin asks the platform for a login code: {code, anonymousCode?}.
  async function platformLogin() {
    let res
    try {
      if (spec.authCode && !framework) {
        res = await callback(api.getAuthCode, api, { scopes: 'auth_base' })
      } else if (framework === 'uni') {
        res = await callback(api.login, api, UNI_PROVIDERS[platform] ? { provider: UNI_PROVIDERS[platform] } : {})
      } else {
        res = await callback(api.login, api, {})
      }
    } catch (err) {
      throw new WxAuthError(0, 'login_failed', errText(err, 'the platform login failed'))
    }
    // authCode: Alipay's, also where uni or Taro pass it on unrenamed.
    const code = res && ((typeof res.code === 'string' && res.code) || (typeof res.authCode === 'string' && res.authCode))
    if (!code) throw new WxAuthError(0, 'login_failed', 'the platform login gave no code')
    return { code, anonymousCode: res.anonymousCode }
  }

  async function doLogin() {
    const { code, anonymousCode } = await platformLogin()
    const data = { code }
    const id = appId()
    if (id) data.app_id = id
    if (typeof anonymousCode === 'string' && anonymousCode) data.anonymous_code = anonymousCode
    const res = await send({
      url: '/wx/login',
      method: 'POST',
      data,
      header: { 'Content-Type': 'application/json' },
    })
    if (res.statusCode >= 400) throw errorFrom(res)
    const body = res.data && typeof res.data === 'object' ? res.data : {}
    if (typeof body.token !== 'string' || !body.token) {
      throw new WxAuthError(res.statusCode, 'bad_response', '/wx/login answered without a token', res)
    }
    setToken(body.token)
    phoneBound = typeof body.phone_bound === 'boolean' ? body.phone_bound : undefined
    return body.token
  }

  // login starts a login, or joins the one under way.
  function login() {
    if (!loginInFlight) {
      // (then, not finally: finally is ES2018.)
      const done = () => {
        loginInFlight = null
      }
      loginInFlight = doLogin().then(
        (t) => {
          done()
          return t
        },
        (err) => {
          done()
          throw err
        }
      )
    }
    return loginInFlight
  }

  // authed sends req with the token (logging in first if there is none).
  // On a 401 it logs in again once and retries once; the second answer is
  // final. It resolves with answers below 400, rejects otherwise.
  async function authed(req) {
    let tok = token() || (await login())
    let res = await send(Object.assign({}, req, { header: withBearer(req.header, tok) }))
    if (res.statusCode === 401) {
      // If another call already replaced the token while this one was on
      // the wire, use the new one instead of logging in yet again.
      const current = token()
      tok = current && current !== tok ? current : await login()
      res = await send(Object.assign({}, req, { header: withBearer(req.header, tok) }))
    }
    if (res.statusCode >= 400) throw errorFrom(res)
    return res
  }

  function request(req) {
    if (!req || typeof req !== 'object' || typeof req.url !== 'string' || req.url[0] !== '/') {
      // Checked before logging in. Only paths on baseURL: the token must
      // never be sent to another host.
      return Promise.reject(new TypeError('wxauth: request({url}) wants a path starting with "/"'))
    }
    return authed({ url: req.url, method: req.method, data: req.data, header: req.header })
  }

  async function session() {
    const res = await authed({ url: '/wx/session', method: 'GET' })
    if (res.data && typeof res.data.phone_bound === 'boolean') phoneBound = res.data.phone_bound
    return res.data
  }

  // noPhone is the rejection for an event without a phone.
  function noPhone(d) {
    const known = spec.errnos && d.errno !== undefined && WECHAT_PHONE_ERRNO[String(d.errno)]
    if (known) return new WxAuthError(0, known[0], known[1] + (d.errMsg ? ': ' + d.errMsg : ''))
    // The user refused (errMsg "getPhoneNumber:fail user deny"), or the
    // app may not ask: either way there is nothing to send.
    return new WxAuthError(0, 'phone_denied', errText(d, 'no phone number was shared'))
  }

  // alipayPhone asks my.getPhoneNumber for the signed, sealed phone.
  async function alipayPhone() {
    // my's own; Taro's where my is not to be seen (uni.getPhoneNumber is
    // another thing: the App's one-tap login).
    const phoneApi = native && typeof native.getPhoneNumber === 'function' ? native : framework === 'taro' ? api : undefined
    if (!phoneApi || typeof phoneApi.getPhoneNumber !== 'function') {
      throw new WxAuthError(0, 'phone_denied', 'my.getPhoneNumber is not available')
    }
    let res
    try {
      res = await callback(phoneApi.getPhoneNumber, phoneApi, {})
    } catch (err) {
      throw new WxAuthError(0, 'phone_denied', errText(err, 'my.getPhoneNumber failed'))
    }
    return res && res.response
  }

  // alipayData is the /wx/phone body for my.getPhoneNumber's response.
  function alipayData(response) {
    try {
      const outer = JSON.parse(response)
      if (outer && typeof outer.response === 'string') {
        const data = { response: outer.response }
        if (typeof outer.sign === 'string') data.sign = outer.sign
        return data
      }
    } catch (e) {
      // not JSON: sent as it is
    }
    return { response }
  }

  // phoneData is the /wx/phone body the event (or the platform) gives.
  async function phoneData(event) {
    const d = (event && event.detail) || {}
    if (spec.phone === 'alipay') {
      const response = typeof d.response === 'string' && d.response ? d.response : await alipayPhone()
      if (typeof response !== 'string' || !response) throw noPhone(d)
      return alipayData(response)
    }
    if (spec.phone === 'code' && typeof d.code === 'string' && d.code) return { code: d.code }
    if (d.encryptedData && d.iv) return { encryptedData: d.encryptedData, iv: d.iv }
    throw noPhone(d)
  }

  async function bindPhone(event) {
    const data = await phoneData(event)
    const req = { url: '/wx/phone', method: 'POST', data, header: { 'Content-Type': 'application/json' } }
    let res
    try {
      res = await authed(req)
    } catch (err) {
      if (!(err instanceof WxAuthError) || err.code !== 'session_key_expired') throw err
      // The data was sealed with a session_key the platform has dropped:
      // a fresh login, then the same data once more.
      await login()
      res = await authed(req)
    }
    phoneBound = true
    return res.data
  }

  async function logout() {
    const tok = token()
    phoneBound = undefined
    if (!tok) return
    let res
    try {
      res = await send({ url: '/wx/logout', method: 'POST', header: withBearer({}, tok) })
    } finally {
      // Forget it whatever happened: the user asked to be logged out here.
      // (Only if it is still ours: a login may have replaced it meanwhile.)
      if (token() === tok) forgetToken()
    }
    // 401: the token was dead already, which is what we wanted.
    if (res.statusCode >= 400 && res.statusCode !== 401) throw errorFrom(res)
  }

  return {
    login,
    request,
    session,
    bindPhone,
    logout,
    token,
    platform,
    get phoneBound() {
      return phoneBound
    },
  }
}

module.exports = { createAuth, WxAuthError, RETRYABLE, isRetryable }
