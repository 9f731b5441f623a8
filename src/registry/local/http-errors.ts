/** The local registry's one table from error code to HTTP status; bodies are `{ code, message }`. */
import type { ErrorCode } from '../../errors.js'

const STATUS: Partial<Record<ErrorCode, number>> = {
  ERR_REGISTRY_BAD_REQUEST: 400,
  ERR_BINDING_MALFORMED: 400,
  ERR_INVALID_WORKER_KEY: 400,
  ERR_INVALID_ARGUMENT: 400,
  ERR_REGISTRY_UNAUTHORIZED: 401,
  ERR_REGISTRY_NOT_ALLOWED: 403,
  ERR_REGISTRY_NOT_FOUND: 404,
  ERR_BINDING_REPLAYED: 409,
  ERR_REGISTRY_BODY_TOO_LARGE: 413,
  ERR_BINDING_SIGNATURE: 422,
  ERR_BINDING_STALE: 422,
  ERR_BINDING_FUTURE: 422,
}

export function httpStatusOf(code: ErrorCode): number {
  return STATUS[code] ?? 500
}
