/**
 * The local API's bearer token: `Authorization: Bearer <token>` or `X-PRouter-Token: <token>` on API routes;
 * `Proxy-Authorization: Bearer <token>` or Basic with the token as password on proxy requests. Compared in
 * constant time (over SHA-256 digests, so lengths leak nothing either).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { PRouterError } from '../errors.js'
import { TOKEN_HEADER } from '../proxy/headers.js'

export interface TokenCheck {
  /** Whether the request's API credentials carry the token; which header did (to keep it local). */
  api(req: IncomingMessage): { ok: boolean; header: string | undefined }
  proxy(req: IncomingMessage): boolean
}

export function createTokenCheck(token: string): TokenCheck {
  const want = digest(token)
  const matches = (given: string | undefined): boolean =>
    given !== undefined && timingSafeEqual(digest(given), want)
  return {
    api(req) {
      if (matches(bearer(req.headers.authorization))) return { ok: true, header: 'authorization' }
      const alt = req.headers[TOKEN_HEADER]
      return { ok: matches(typeof alt === 'string' ? alt : undefined), header: undefined }
    },
    proxy(req) {
      const value = req.headers['proxy-authorization']
      return matches(bearer(value)) || matches(basicPassword(value))
    },
  }
}

export function unauthorized(): PRouterError {
  return new PRouterError(
    'ERR_API_UNAUTHORIZED',
    'missing or wrong API token (Authorization: Bearer <token>)',
  )
}

export function proxyAuthRequired(): PRouterError {
  return new PRouterError(
    'ERR_PROXY_AUTH_REQUIRED',
    'missing or wrong proxy token (Proxy-Authorization: Bearer <token>, or Basic with the token as password)',
  )
}

function bearer(value: string | undefined): string | undefined {
  const m = value === undefined ? null : /^Bearer\s+(\S+)$/i.exec(value)
  return m?.[1]
}

function basicPassword(value: string | undefined): string | undefined {
  const m = value === undefined ? null : /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(value)
  if (m?.[1] === undefined) return undefined
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0 ? undefined : decoded.slice(colon + 1)
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest()
}
