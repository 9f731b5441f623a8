/**
 * The acceptance rules of Phala's registry pallet, plus the one it lacked: a verified binding is accepted
 * only if `signing_time <= now + skew` and `now <= signing_time + 4 h`, the key is allowed, and it is newer
 * than the one held (so an old signed payload cannot be replayed to roll an endpoint back). Pure.
 */
import { PRouterError } from '../errors.js'
import { BINDING_MAX_AGE, BINDING_MAX_SKEW } from '../constants.js'
import type { VerifiedBinding } from '../identity/index.js'

export interface AcceptanceRules {
  maxAgeMs: number
  maxSkewMs: number
  /** Worker keys (0x-hex, lower case) allowed to publish; undefined: anyone. */
  allowList?: ReadonlySet<string>
}

export const DEFAULT_RULES: AcceptanceRules = { maxAgeMs: BINDING_MAX_AGE, maxSkewMs: BINDING_MAX_SKEW }

export function checkAcceptable(
  binding: VerifiedBinding,
  held: { signingTime: number } | undefined,
  now: number,
  rules: AcceptanceRules = DEFAULT_RULES,
): void {
  const { workerKey, signingTime } = binding
  if (rules.allowList !== undefined && !rules.allowList.has(workerKey)) {
    throw new PRouterError('ERR_REGISTRY_NOT_ALLOWED', `worker ${workerKey} is not on the allow-list`)
  }
  if (signingTime > now + rules.maxSkewMs) {
    throw new PRouterError('ERR_BINDING_FUTURE', `signing time ${iso(signingTime)} is ahead of ${iso(now)}`)
  }
  if (now > signingTime + rules.maxAgeMs) {
    throw new PRouterError(
      'ERR_BINDING_STALE',
      `signed at ${iso(signingTime)}, older than ${rules.maxAgeMs} ms`,
    )
  }
  if (held !== undefined && held.signingTime >= signingTime) {
    throw new PRouterError(
      'ERR_BINDING_REPLAYED',
      `the registry holds a binding for ${workerKey} signed at ${iso(held.signingTime)}, not older than ${iso(signingTime)}`,
    )
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
