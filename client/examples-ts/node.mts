// The ES module import of the package, by its name, as a bundler or Node
// resolves it (exports: types, import).
import { createAuth, isRetryable, RETRYABLE, WxAuthError, type Auth, type PlatformApi } from '@wechat-auth/client'

declare const api: PlatformApi
const auth: Auth = createAuth({ baseURL: 'https://api.example.com', api, platform: 'wechat', appId: 'wx0123456789abcdef' })
export const retryable: boolean = isRetryable(new WxAuthError(503, 'wechat_busy')) && RETRYABLE.has('wechat_busy')
export const bound: boolean | undefined = auth.phoneBound
