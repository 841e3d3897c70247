// Type declarations of @wechat-auth/client (index.js, index.mjs): see
// the comment at the top of index.js for what each call does.

/** The platform words of wechat_auth's `app` blocks. */
export type Platform = 'wechat' | 'qq' | 'douyin' | 'kuaishou' | 'baidu' | 'alipay'

/**
 * The object whose calls the helper uses: the platform's own (wx, qq, tt,
 * ks, swan, my), uni-app's uni, or Taro. Only the calls the helper makes
 * are named, loosely, so that each platform's own declarations fit.
 */
export interface PlatformApi {
  request(options: any): any
  getStorageSync(key: any): any
  setStorageSync(...args: any[]): any
  removeStorageSync(key: any): any
  /** Every platform but Alipay (and uni and Taro on Alipay too). */
  login?(options?: any): any
  /** Alipay's own my. */
  getAuthCode?(options?: any): any
}

export interface AuthOptions {
  /** Where wechat_auth answers /wx/login: an http(s) URL. */
  baseURL: string
  /** Found from the globals (or uni / Taro) when left out. */
  platform?: Platform
  /** The platform's object (wx, tt, my...), uni, or Taro; default: the global. */
  api?: PlatformApi
  /** Say that api is uni-app's uni (found when it is the global uni). */
  framework?: 'uni'
  /** The app_id sent to /wx/login; default: read from the platform. */
  appId?: string
  /** The storage key of the token; default 'wxauth_token'. */
  storageKey?: string
  /** The old name of api with platform 'wechat'. */
  wx?: PlatformApi
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'HEAD' | 'OPTIONS'

export interface RequestOptions {
  /** A path on baseURL, starting with '/'. */
  url: string
  method?: HttpMethod
  data?: string | object | ArrayBuffer
  header?: Record<string, string>
}

/** An answer below 400, with the same names on every platform. */
export interface Answer<T = any> {
  statusCode: number
  data: T
  header: Record<string, string>
}

/** GET /wx/session's answer. */
export interface Session {
  app_id: string
  platform: Platform | 'wechat_oa' | 'wechat_web'
  /** Seconds the session has left. */
  expires_in: number
  phone_bound: boolean
}

/** POST /wx/phone's answer. */
export interface Phone {
  phone_number: string
  pure_phone_number: string
  country_code: string
}

/** What bindPhone reads of the phone button's event. */
export interface PhoneEvent {
  detail?: {
    code?: string
    encryptedData?: string
    iv?: string
    errMsg?: string
    errno?: number | string
    /** Alipay: my.getPhoneNumber's response, when the event carries it. */
    response?: string
  }
}

export interface Auth {
  /** Logs in (or joins the login under way); resolves with the token. */
  login(): Promise<string>
  request<T = any>(req: RequestOptions): Promise<Answer<T>>
  /** GET /wx/session; updates phoneBound. */
  session(): Promise<Session>
  /** Alipay needs no event: it calls my.getPhoneNumber. */
  bindPhone(event?: PhoneEvent): Promise<Phone>
  logout(): Promise<void>
  /** The current token, or ''. */
  token(): string
  readonly platform: Platform
  /** What the server last said of the phone; undefined before it said. */
  readonly phoneBound: boolean | undefined
}

/** The client's own codes; any other is the server's JSON "error". */
export type ClientErrorCode =
  | 'network_error'
  | 'login_failed'
  | 'phone_denied'
  | 'phone_quota_exhausted'
  | 'privacy_denied'
  | 'privacy_not_declared'
  | 'http_error'
  | 'bad_response'

export class WxAuthError extends Error {
  constructor(status: number, code: string, message?: string, answer?: { data?: unknown; header?: Record<string, string> })
  readonly name: 'WxAuthError'
  /** The HTTP status; 0 when no answer came. */
  status: number
  code: ClientErrorCode | (string & {})
  data?: unknown
  header?: Record<string, string>
  /** Seconds to wait, from Retry-After. */
  retryAfter?: number
}

export const RETRYABLE: ReadonlySet<string>
export function isRetryable(err: unknown): boolean
export function createAuth(options: AuthOptions): Auth
