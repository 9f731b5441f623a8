import { PRouterError, type ErrorCode } from '../errors.js'
import { redactSecrets, type SamReply } from './reply.js'

/** Every RESULT= value a SAM v3 bridge sends, and the error code it becomes (null: success). */
export const SAM_RESULT_CODES: Readonly<Record<string, ErrorCode | null>> = Object.freeze({
  OK: null,
  CANT_REACH_PEER: 'ERR_SAM_CANT_REACH_PEER',
  PEER_NOT_FOUND: 'ERR_SAM_PEER_NOT_FOUND',
  KEY_NOT_FOUND: 'ERR_SAM_KEY_NOT_FOUND',
  DUPLICATED_ID: 'ERR_SAM_DUPLICATED_ID',
  DUPLICATED_DEST: 'ERR_SAM_DUPLICATED_DEST',
  INVALID_ID: 'ERR_SAM_INVALID_ID',
  INVALID_KEY: 'ERR_SAM_INVALID_KEY',
  I2P_ERROR: 'ERR_SAM_I2P_ERROR',
  TIMEOUT: 'ERR_SAM_BRIDGE_TIMEOUT',
  NOVERSION: 'ERR_SAM_NO_VERSION',
  ALREADY_ACCEPTING: 'ERR_SAM_ALREADY_ACCEPTING',
})

/** The error code for a RESULT= value: null for OK, ERR_SAM_RESULT_UNKNOWN for a value not in the table. */
export function errorCodeForResult(result: string): ErrorCode | null {
  return Object.hasOwn(SAM_RESULT_CODES, result)
    ? (SAM_RESULT_CODES[result] ?? null)
    : 'ERR_SAM_RESULT_UNKNOWN'
}

export function isOk(reply: SamReply): boolean {
  return reply.values.RESULT === 'OK'
}

/**
 * The error a non-OK reply stands for. `context` says what failed and where, e.g.
 * "STREAM CONNECT via 127.0.0.1:7656". MESSAGE= and the (redacted) raw line are kept in `detail`.
 */
export function errorFromReply(reply: SamReply, context: string): PRouterError {
  const result = reply.values.RESULT
  const message = reply.values.MESSAGE
  const detail = { result, message, raw: redactSecrets(reply.raw) }
  if (result === undefined) {
    return new PRouterError('ERR_SAM_PROTOCOL', `${context}: reply has no RESULT`, { detail })
  }
  const code = errorCodeForResult(result) ?? 'ERR_SAM_PROTOCOL'
  const why = message === undefined || message === '' ? '' : `: ${message}`
  return new PRouterError(code, `${context}: RESULT=${result}${why}`, { detail })
}

/** Return the reply if RESULT=OK, otherwise throw `errorFromReply(reply, context)`. */
export function assertOk(reply: SamReply, context: string): SamReply {
  if (!isOk(reply)) throw errorFromReply(reply, context)
  return reply
}
