// Taro, typed by @tarojs/taro: Taro is imported, not global, so it is
// passed as api. (@tarojs/components' event types need React's: the
// button's detail is written out as its ButtonProps.onGetPhoneNumberEventDetail has it.)
import Taro from '@tarojs/taro'
import { createAuth, type Phone } from '@wechat-auth/client'

const auth = createAuth({ baseURL: 'https://api.example.com', api: Taro })

// <Button openType="getPhoneNumber" onGetPhoneNumber={onPhone}>
export async function onPhone(e: { detail: { errMsg: string; encryptedData: string; iv: string; code?: string; sign: string } }): Promise<Phone> {
  return auth.bindPhone(e)
}

export const env: string = Taro.getEnv()
