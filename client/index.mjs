// The ES module face of @wechat-auth/client: the same objects as the
// CommonJS index.js (one source, one WxAuthError class for both).
import cjs from './index.js'

export const { createAuth, WxAuthError, RETRYABLE, isRetryable } = cjs
export default cjs
