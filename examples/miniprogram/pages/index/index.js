// A minimal page: log in, share the phone number, call the API, log out.
const { isRetryable } = require('../../wxauth.js')

const auth = getApp().globalData.auth

// describe turns an error into a line for the user.
function describe(err) {
  if (err && err.code === 'phone_denied') return 'You did not share a phone number.'
  if (err && err.code === 'phone_quota_exhausted') return 'We cannot ask for your phone number right now (not your fault): please try again tomorrow.'
  if (err && err.code === 'privacy_denied') return 'You declined the privacy prompt: the phone number needs it.'
  // The app's privacy guide does not declare getPhoneNumber: the developer's to fix.
  if (err && err.code === 'privacy_not_declared') return 'This app cannot ask for phone numbers yet (its privacy guide is incomplete).'
  if (err && err.code) return `${err.code}: ${err.message}${isRetryable(err) ? ' (try again later)' : ''}`
  return String(err)
}

Page({
  data: { loggedIn: false, phoneBound: false, phone: '', answer: '', error: '' },

  onLoad() {
    this.setData({ loggedIn: auth.token() !== '' })
  },

  async onLogin() {
    try {
      await auth.login()
      // phoneBound: the server remembers this user's phone, so the
      // (billed) phone button need not be shown again.
      this.setData({ loggedIn: true, phoneBound: auth.phoneBound === true, error: '' })
    } catch (err) {
      this.setData({ error: describe(err) })
    }
  },

  // The getPhoneNumber button's event goes to bindPhone as it is.
  async onPhone(e) {
    try {
      const phone = await auth.bindPhone(e)
      this.setData({ loggedIn: true, phoneBound: true, phone: phone.pure_phone_number, error: '' })
    } catch (err) {
      this.setData({ error: describe(err) })
    }
  },

  async onCall() {
    try {
      const res = await auth.request({ url: '/api/hello' })
      this.setData({ loggedIn: true, answer: JSON.stringify(res.data, null, 2), error: '' })
    } catch (err) {
      this.setData({ answer: '', error: describe(err) })
    }
  },

  async onLogout() {
    try {
      await auth.logout()
      this.setData({ error: '' })
    } catch (err) {
      // The token is forgotten here anyway; the server may keep the
      // session until it expires.
      this.setData({ error: describe(err) })
    }
    this.setData({ loggedIn: false, phoneBound: false, phone: '', answer: '' })
  },
})
