// Baidu, typed by @types/baidu-app (the global swan). The app id sent is
// the AppKey.
import { createAuth, type Phone } from '@wechat-auth/client'

const auth = createAuth({ baseURL: 'https://api.example.com', api: swan, platform: 'baidu' })

export async function onPhone(e: { detail: { encryptedData: string; iv: string; errMsg: string } }): Promise<Phone> {
  return auth.bindPhone(e)
}

export async function hello(): Promise<unknown> {
  return (await auth.request({ url: '/api/hello' })).data
}

export const appKey: string = swan.getEnvInfoSync().appKey
