// QQ: no QQ typings are published on npm (none found); QQ's API is a
// copy of WeChat's, so its global is declared with miniprogram-api-typings'
// Wx, the closest published declarations.
import { createAuth, type Phone } from '@wechat-auth/client'

declare const qq: WechatMiniprogram.Wx

const auth = createAuth({ baseURL: 'https://api.example.com', api: qq, platform: 'qq' })

export async function onPhone(e: WechatMiniprogram.ButtonGetPhoneNumber): Promise<Phone> {
  await auth.login()
  return auth.bindPhone(e) // encryptedData and iv
}

export const appId: string = qq.getAccountInfoSync().miniProgram.appId
