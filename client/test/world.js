'use strict'
// The test world of the *.caddy.test.js files: a real Caddy with
// wechat_auth in front of the fake WeChat and an echo upstream, started
// by the Go test TestMiniProgramHelper (miniprogram_test.go at the
// repository root), which passes it in the environment:
//
//   WXAUTH_BASE_URL  Caddy's base URL
//   WXFAKE_URL       the fake WeChat's base URL (for POST /fake/encrypt)
//   WXAUTH_APP_ID    the app_id behind WXAUTH_BASE_URL
//   WXAUTH_LIMITED_URL the base URL of another app's block whose
//                    failure_limit is 2/1m (nothing else sends it codes)
//   WXAUTH_LIMITED_APP_ID (optional) that app's app_id (a block answers
//                    unknown_app to a login naming another app)
//   WXAUTH_EVERY_URL the base URL of a block serving one app of every
//                    platform (WeChat's is WXAUTH_APP_ID), each against
//                    its fake, whose controls (/fake/<name>/) are on
//                    WXFAKE_URL too
//   WXAUTH_EVERY_APPS JSON: platform -> the app_id of its app there
//   WXAUTH_TOKENS_FILE (optional) every token /wx/login hands out is
//                    appended there, so the Go side can check that Caddy's
//                    log never shows one

const BASE = process.env.WXAUTH_BASE_URL
const WXFAKE = process.env.WXFAKE_URL
const APP_ID = process.env.WXAUTH_APP_ID
const LIMITED = process.env.WXAUTH_LIMITED_URL
const LIMITED_APP_ID = process.env.WXAUTH_LIMITED_APP_ID || APP_ID
const TOKENS_FILE = process.env.WXAUTH_TOKENS_FILE
const EVERY = process.env.WXAUTH_EVERY_URL
const EVERY_APPS = process.env.WXAUTH_EVERY_APPS && JSON.parse(process.env.WXAUTH_EVERY_APPS)
const missing = Object.entries({
  WXAUTH_BASE_URL: BASE,
  WXFAKE_URL: WXFAKE,
  WXAUTH_APP_ID: APP_ID,
  WXAUTH_LIMITED_URL: LIMITED,
  WXAUTH_EVERY_URL: EVERY,
  WXAUTH_EVERY_APPS: EVERY_APPS,
})
  .filter(([, v]) => !v)
  .map(([k]) => k)
if (missing.length > 0) {
  // Fail, do not skip: a green run without a server would prove nothing.
  throw new Error(
    `${missing.join(', ')} not set: these tests are run by the Go test ` +
      'TestMiniProgramHelper, which starts Caddy and the fake WeChat ' +
      '(from the repository root: go test -run TestMiniProgramHelper -v .)'
  )
}

// raw sends a request to Caddy without the helper; it returns status and body.
async function raw(method, path, token, body) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = 'Bearer ' + token
  const res = await fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  let data = text
  try {
    data = JSON.parse(text)
  } catch (e) {
    // leave it a string
  }
  return { status: res.status, data }
}

// sealPhone asks the fake WeChat to seal a phone with the user's current
// session_key, as the platform does for the phone button; it returns
// {encryptedData, iv}.
async function sealPhone(user, purePhone) {
  const res = await fetch(WXFAKE + '/fake/encrypt', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appid: APP_ID, user, pure_phone_number: purePhone, country_code: '86' }),
  })
  if (res.status !== 200) throw new Error('/fake/encrypt answered ' + res.status)
  return res.json()
}

// replaceSessionKey asks the fake WeChat to replace the user's
// session_key outside a login, as WeChat's data pre-fetch does: phone data
// sealed after it opens with no key wechat_auth holds.
async function replaceSessionKey(user) {
  const res = await fetch(WXFAKE + '/fake/replace_session_key', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appid: APP_ID, user }),
  })
  if (res.status !== 204) throw new Error('/fake/replace_session_key answered ' + res.status)
}

// control calls one of the fakes' HTTP controls on WXFAKE_URL (path with
// its query; body, when given, as JSON) and returns its JSON answer.
async function control(path, body) {
  const res = await fetch(WXFAKE + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${text}`)
  return JSON.parse(text)
}

// hdr reads one header the echo upstream got (names in Go's canonical form).
const hdr = (res, name) => (res.data.headers[name] || [])[0]

module.exports = {
  BASE,
  WXFAKE,
  APP_ID,
  LIMITED,
  LIMITED_APP_ID,
  TOKENS_FILE,
  EVERY,
  EVERY_APPS,
  raw,
  sealPhone,
  hdr,
  replaceSessionKey,
  control,
}
