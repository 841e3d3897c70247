// Alipay, typed by @mini-types/alipay (the global my): login by
// my.getAuthCode, phone by my.getPhoneNumber (no event needed).
import { createAuth, type Phone } from '@wechat-auth/client'

const auth = createAuth({ baseURL: 'https://api.example.com', api: my, platform: 'alipay' })

// <button open-type="getAuthorize" scope="phoneNumber" onGetAuthorize="onGetAuthorize">
export async function onGetAuthorize(): Promise<Phone> {
  await auth.login()
  return auth.bindPhone()
}

export const appId: string = my.getAppIdSync().appId
