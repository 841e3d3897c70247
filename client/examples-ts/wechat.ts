// WeChat, typed by miniprogram-api-typings: the global wx and the
// getPhoneNumber button's event go to the helper as they are.
import { createAuth, isRetryable, WxAuthError, type Phone, type Session } from '@wechat-auth/client'

const auth = createAuth({ baseURL: 'https://api.example.com', api: wx, platform: 'wechat' })
// The same, found from the global wx, with the app id read at run time.
export const found = createAuth({ baseURL: 'https://api.example.com' })

export async function start(): Promise<boolean> {
  await auth.login()
  const s: Session = await auth.session()
  return s.phone_bound && auth.phoneBound === true
}

export async function onPhone(e: WechatMiniprogram.ButtonGetPhoneNumber): Promise<string> {
  try {
    const phone: Phone = await auth.bindPhone(e)
    return phone.pure_phone_number
  } catch (err) {
    if (err instanceof WxAuthError && err.code === 'privacy_not_declared') return 'fix the privacy guide'
    if (err instanceof WxAuthError && isRetryable(err)) return 'later: ' + String(err.retryAfter)
    throw err
  }
}

export async function orders(): Promise<number> {
  const res = await auth.request<{ orders: string[] }>({ url: '/api/orders', method: 'GET', header: { 'X-Trace': 't' } })
  return res.data.orders.length + res.statusCode
}

// The app id the helper sends, read the same way.
export const appId: string = wx.getAccountInfoSync().miniProgram.appId
