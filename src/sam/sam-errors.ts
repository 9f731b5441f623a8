import { PRouterError } from '../errors.js'
import { redactSecrets } from './reply.js'

/**
 * Error factories of the SAM client. `where` says what failed and where, e.g.
 * "STREAM CONNECT via 127.0.0.1:7656" or "SAM session prouter-1a2b".
 */

export function samTimeoutError(where: string, timeout: number): PRouterError {
  return new PRouterError('ERR_SAM_TIMEOUT', `${where}: no reply within ${timeout} ms`, {
    detail: { timeout },
  })
}

export function samClosedError(where: string, why: string, cause?: unknown): PRouterError {
  return new PRouterError('ERR_SAM_CLOSED', `${where}: ${why}`, { cause })
}

/** `raw`: the offending line; private keys in it are redacted. */
export function samProtocolError(where: string, why: string, raw?: string, cause?: unknown): PRouterError {
  const detail = raw === undefined ? undefined : { raw: redactSecrets(raw) }
  return new PRouterError('ERR_SAM_PROTOCOL', `${where}: ${why}`, { cause, detail })
}

export function samInvalidStateError(
  where: string,
  state: string,
  why = `not allowed in state ${state}`,
): PRouterError {
  return new PRouterError('ERR_SAM_INVALID_STATE', `${where}: ${why}`, { detail: { state } })
}
