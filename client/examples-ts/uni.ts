// uni-app, typed by @dcloudio/types (the global uni): uni.login,
// uni.request and uni's storage on whichever platform the app is built for.
import { createAuth, type Phone } from '@wechat-auth/client'

const auth = createAuth({ baseURL: 'https://api.example.com', api: uni, framework: 'uni' })
// The same, found from the global uni.
export const found = createAuth({ baseURL: 'https://api.example.com' })

// <button open-type="getPhoneNumber" @getphonenumber="onPhone">
export async function onPhone(e: { detail: { code?: string; encryptedData?: string; iv?: string; errMsg: string } }): Promise<Phone> {
  return auth.bindPhone(e)
}

export const uniPlatform: string = uni.getSystemInfoSync().uniPlatform
