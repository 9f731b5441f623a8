/**
 * Junk for the registry: bindings that decode (so only a signature check can refuse them) but carry a
 * random signature, padded with endpoints up to about `bytes` of payload. No signing cost: thousands in ms.
 */
import { randomBytes } from 'node:crypto'
import { encodeEndpointPayload } from '../../src/identity/payload.js'
import type { SignedBinding } from '../../src/identity/index.js'

export function junkBinding(publicKey: Uint8Array, signingTime: number, bytes = 2000): SignedBinding {
  const endpoint = `i2p://${'a'.repeat(52)}.b32.i2p/${'x'.repeat(60)}`
  const count = Math.max(1, Math.min(16, Math.floor((bytes - 50) / (endpoint.length + 1))))
  const payload = encodeEndpointPayload({
    pubkey: publicKey,
    endpoints: Array.from({ length: count }, () => endpoint),
    signingTime: BigInt(signingTime),
  })
  return { payload, signature: Uint8Array.from(randomBytes(64)) }
}
