// Douyin, typed by @douyin-microapp/typings (the global tt).
import { createAuth, WxAuthError, type Phone } from '@wechat-auth/client'

const auth = createAuth({ baseURL: 'https://api.example.com', api: tt, platform: 'douyin' })

// The typings declare no event types: the button's detail as Douyin documents it.
interface GetPhoneNumberEvent {
  detail: { errMsg: string; code?: string; encryptedData?: string; iv?: string }
}

export async function onPhone(e: GetPhoneNumberEvent): Promise<Phone | null> {
  try {
    return await auth.bindPhone(e)
  } catch (err) {
    if (err instanceof WxAuthError && err.code === 'phone_denied') return null
    throw err
  }
}

export const appId: string = tt.getEnvInfoSync().microapp.appId
