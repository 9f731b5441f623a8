/**
 * What of an error may be logged: its code and its message with every URL redacted. An RPC URL often holds
 * the provider's API key (`https://eth.example/v3/<key>`, `?apikey=…`, `user:pass@`), and libraries (viem,
 * undici) spell the URL out in their messages and in the `cause` chain that a logger's `{ err }` serializer
 * prints in full: log `errorFields(err)` instead.
 */
import { isPRouterError } from './errors.js'

/** http(s) URLs inside free text. */
const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>`]+/gi

/**
 * The URL as it may appear in messages and logs: no credentials, no query, no fragment, and path segments
 * that look like provider API keys (16+ characters of [A-Za-z0-9_-]) replaced by `***`.
 */
export function redactUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return '<invalid URL>'
  }
  const path = parsed.pathname
    .split('/')
    .map((segment) => (/^[A-Za-z0-9_-]{16,}$/.test(segment) ? '***' : segment))
    .join('/')
  return `${parsed.protocol}//${parsed.host}${path === '/' ? '' : path}`
}

/** `text` with every http(s) URL in it redacted (redactUrl). */
export function redactUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => redactUrl(url))
}

/** `{ code, message }` of an error, the message redacted: what a warn line may carry instead of `{ err }`. */
export function errorFields(err: unknown): { code?: string; message: string } {
  const message = redactUrls(err instanceof Error ? err.message : String(err))
  if (isPRouterError(err)) return { code: err.code, message }
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? { code, message } : { message }
}
