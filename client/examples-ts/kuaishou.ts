// Kuaishou: no Kuaishou typings are published on npm (none found); its ks
// copies WeChat's API, so it is declared with miniprogram-api-typings' Wx,
// the closest published declarations.
import { createAuth, type Phone } from '@wechat-auth/client'

declare const ks: WechatMiniprogram.Wx

const auth = createAuth({ baseURL: 'https://api.example.com', api: ks, platform: 'kuaishou' })

export async function onPhone(e: WechatMiniprogram.ButtonGetPhoneNumber): Promise<Phone> {
  return auth.bindPhone(e) // encryptedData and iv
}

export const appId: string = ks.getAccountInfoSync().miniProgram.appId
