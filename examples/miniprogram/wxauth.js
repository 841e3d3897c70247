'use strict'
/**
 * wxauth.js: the mini program side of wechat_auth. No dependencies, no
 * build step: copy this file into your mini program. It uses ES2017
 * (class, async/await): if your DevTools project compiles ES6 to ES5,
 * turn on "enhanced compile".
 *
 *   const { createAuth, WxAuthError, isRetryable } = require('./wxauth.js')
 *   const auth = createAuth({
 *     baseURL: 'https://api.example.com', // where wechat_auth answers /wx/login
 *     wx,                                 // optional: defaults to the global wx
 *     storageKey: 'wxauth_token',         // optional: the storage key of the token
 *   })
 *
 *   await auth.login()
 *     wx.login -> POST /wx/login {"code"} -> the token is kept with
 *     wx.setStorageSync. Resolves with the token. Calls made while a login is
 *     under way share it (one wx.login, one POST), whoever started it.
 *
 *   const res = await auth.request({ url: '/api/orders', method: 'GET', data, header })
 *     wx.request to baseURL + url (url is a path, starting with '/') with
 *     Authorization: Bearer <token>. Logs in first when there is no token.
 *     On a 401 (wechat_auth's or your backend's) it logs in again ONCE and
 *     retries ONCE; a second 401 rejects. Other statuses (403
 *     phone_required, 5xx...) never trigger a login.
 *     Resolves with {statusCode, data, header} for a status below 400;
 *     rejects with a WxAuthError for 400 and above (err.data holds the body).
 *
 *   const phone = await auth.bindPhone(event)
 *     event is the getPhoneNumber event of
 *     <button open-type="getPhoneNumber" bindgetphonenumber="onPhone">.
 *     detail.code -> POST /wx/phone {"code"}; without a code but with
 *     detail.encryptedData and detail.iv (older base libraries) -> POST
 *     /wx/phone {"encryptedData", "iv"}; with neither it sends nothing and
 *     rejects: code 'phone_quota_exhausted' when the event's errno is
 *     1400001 (the mini program's paid getPhoneNumber quota is spent: not
 *     the user's doing, tell them the service cannot ask for their number
 *     now), else 'phone_denied' (the user refused: detail.errMsg
 *     "getPhoneNumber:fail user deny"). Resolves with the server's
 *     {phone_number, pure_phone_number, country_code}.
 *
 *   await auth.logout()
 *     POST /wx/logout, then forgets the token. The token is forgotten in
 *     every case; the promise resolves on 204 or 401 (the token was dead
 *     already) and rejects when the server could not confirm (network
 *     failure, 5xx): the session may then live on the server until it expires.
 *
 *   auth.token()  // the current token, or ''
 *
 * Errors: every rejection of this module is a WxAuthError (bad arguments
 * aside: a TypeError), with
 *   .status  the HTTP status, 0 when no answer came (network, wx.login)
 *   .code    the server's JSON "error" code ('invalid_code', 'wechat_busy',
 *            'phone_required', ...), or one of the client's own:
 *            'network_error'  wx.request failed (no answer)
 *            'login_failed'   wx.login failed
 *            'phone_denied'   the getPhoneNumber event carries no phone
 *            'phone_quota_exhausted'  no phone either, because the app's
 *                             getPhoneNumber quota is spent (errno 1400001)
 *            'http_error'     an error answer without a JSON "error" code
 *            'bad_response'   /wx/login answered 200 without a token
 *   .message the server's "message", or wx's errMsg
 *   .data, .header  the answer's body and headers, when there was an answer
 * RETRYABLE is the set of codes worth retrying later (429, 502, 503, 504);
 * isRetryable(err) tells whether err is one of them (an error answer of
 * status 429/502/503/504 without a JSON code counts too).
 */

// The server's codes for "try again later" (statuses 429, 502, 503, 504).
// wechat_config_error (502) is left out: it needs the operator, not time.
const RETRYABLE = new Set([
  'rate_limited',
  'wechat_busy',
  'wechat_timeout',
  'wechat_unreachable',
  'wechat_bad_response',
  'wechat_error',
  'session_store_full',
  'session_store_unavailable',
])

const RETRYABLE_STATUS = new Set([429, 502, 503, 504])

// The getPhoneNumber event's errno when the app's paid quota is spent.
const PHONE_QUOTA_ERRNO = 1400001

class WxAuthError extends Error {
  constructor(status, code, message, answer) {
    super(message || code)
    this.name = 'WxAuthError'
    this.status = status
    this.code = code
    if (answer) {
      this.data = answer.data
      this.header = answer.header
    }
  }
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

// globalWx is the mini program's global wx, if any.
function globalWx() {
  // eslint-disable-next-line no-undef
  return typeof wx !== 'undefined' ? wx : undefined
}

function createAuth(options) {
  const opts = options || {}
  const wxApi = opts.wx || globalWx()
  if (!wxApi) throw new TypeError('wxauth: no wx object (pass options.wx outside a mini program)')
  if (typeof opts.baseURL !== 'string' || !/^https?:\/\//.test(opts.baseURL)) {
    throw new TypeError('wxauth: baseURL must be an http(s) URL')
  }
  const baseURL = opts.baseURL.replace(/\/+$/, '')
  const storageKey = opts.storageKey || 'wxauth_token'

  // The one login under way, shared by every caller until it settles.
  let loginInFlight = null

  // The token lives in storage only (so it survives restarts and there is
  // one truth); getStorageSync answers '' for a missing key.
  function token() {
    try {
      const t = wxApi.getStorageSync(storageKey)
      return typeof t === 'string' ? t : ''
    } catch (e) {
      return ''
    }
  }
  function setToken(t) {
    wxApi.setStorageSync(storageKey, t)
  }
  function forgetToken() {
    try {
      wxApi.removeStorageSync(storageKey)
    } catch (e) {
      // nothing to do: storage is gone, and so is the token
    }
  }

  // send is wx.request as a promise. It resolves with every answer (any
  // status) and rejects only when none came.
  function send(req) {
    const url = req.url
    if (typeof url !== 'string' || url[0] !== '/') {
      return Promise.reject(new TypeError('wxauth: url must be a path starting with "/", got ' + String(url)))
    }
    return new Promise((resolve, reject) => {
      wxApi.request({
        url: baseURL + url,
        method: req.method || 'GET',
        data: req.data,
        header: req.header || {},
        success(res) {
          resolve({ statusCode: res.statusCode, data: res.data, header: res.header || {} })
        },
        fail(err) {
          reject(new WxAuthError(0, 'network_error', (err && err.errMsg) || 'wx.request failed'))
        },
      })
    })
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

  function wxLogin() {
    return new Promise((resolve, reject) => {
      wxApi.login({
        success(res) {
          if (res && typeof res.code === 'string' && res.code) resolve(res.code)
          else reject(new WxAuthError(0, 'login_failed', 'wx.login gave no code'))
        },
        fail(err) {
          reject(new WxAuthError(0, 'login_failed', (err && err.errMsg) || 'wx.login failed'))
        },
      })
    })
  }

  async function doLogin() {
    const code = await wxLogin()
    const res = await send({
      url: '/wx/login',
      method: 'POST',
      data: { code },
      header: { 'Content-Type': 'application/json' },
    })
    if (res.statusCode >= 400) throw errorFrom(res)
    const t = res.data && typeof res.data === 'object' ? res.data.token : undefined
    if (typeof t !== 'string' || !t) {
      throw new WxAuthError(res.statusCode, 'bad_response', '/wx/login answered without a token', res)
    }
    setToken(t)
    return t
  }

  // login starts a login, or joins the one under way.
  function login() {
    if (!loginInFlight) {
      loginInFlight = doLogin().finally(() => {
        loginInFlight = null
      })
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

  async function bindPhone(event) {
    const d = (event && event.detail) || {}
    let data
    if (typeof d.code === 'string' && d.code) {
      data = { code: d.code }
    } else if (d.encryptedData && d.iv) {
      data = { encryptedData: d.encryptedData, iv: d.iv }
    } else if (String(d.errno) === String(PHONE_QUOTA_ERRNO)) {
      // Every successful getPhoneNumber is billed to the mini program; with
      // its quota spent the button gives errno 1400001 and no code. The user
      // did not refuse anything.
      throw new WxAuthError(
        0,
        'phone_quota_exhausted',
        "the mini program's getPhoneNumber quota is spent (errno 1400001)" + (d.errMsg ? ': ' + d.errMsg : '')
      )
    } else {
      // The user refused (errMsg "getPhoneNumber:fail user deny"), or the
      // app may not ask: either way there is nothing to send.
      throw new WxAuthError(0, 'phone_denied', d.errMsg || 'no phone number was shared')
    }
    const res = await authed({
      url: '/wx/phone',
      method: 'POST',
      data,
      header: { 'Content-Type': 'application/json' },
    })
    return res.data
  }

  async function logout() {
    const tok = token()
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

  return { login, request, bindPhone, logout, token }
}

module.exports = { createAuth, WxAuthError, RETRYABLE, isRetryable }
