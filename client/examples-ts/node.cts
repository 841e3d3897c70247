// The CommonJS require of the package (exports: types, require).
import wxauth = require('@wechat-auth/client')

declare const api: wxauth.PlatformApi
export const auth: wxauth.Auth = wxauth.createAuth({ baseURL: 'https://api.example.com', api, platform: 'douyin' })
