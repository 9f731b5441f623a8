/**
 * The signed binding: a SCALE `WorkerEndpointPayload` and the worker's sr25519 signature over
 * `0xff 0x02 ++ payload`. Byte for byte what Phala's registry pallet took in `update_worker_endpoint`.
 */
import { MAX_BINDING_PAYLOAD_BYTES } from '../constants.js'
import { PRouterError } from '../errors.js'
import { decodeEndpointPayload, encodeEndpointPayload, endpointSigningMessage } from './payload.js'
import { verifySignature, workerKeyHex, type WorkerKeyPair } from './worker-key.js'

export interface SignedBinding {
  payload: Uint8Array
  signature: Uint8Array
}

export interface VerifiedBinding {
  /** `0x` and 64 lower-case hex digits. */
  workerKey: string
  endpoints: string[]
  /** Milliseconds since the epoch. */
  signingTime: number
  binding: SignedBinding
}

export const SIGNATURE_BYTES = 64

export function signBinding(
  pair: WorkerKeyPair,
  endpoints: readonly string[],
  signingTime: number,
): SignedBinding {
  if (!Number.isSafeInteger(signingTime) || signingTime < 0) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `signingTime must be a whole number of ms >= 0`)
  }
  const payload = encodeEndpointPayload({
    pubkey: pair.publicKey,
    endpoints,
    signingTime: BigInt(signingTime),
  })
  return { payload, signature: pair.sign(endpointSigningMessage(payload)) }
}

export function verifyBinding(binding: SignedBinding): VerifiedBinding {
  const { payload, signature } = checkShape(binding)
  const decoded = decodeEndpointPayload(payload)
  if (decoded.signingTime > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw malformed(`signing_time ${decoded.signingTime} ms is past any date PRouter takes`)
  }
  const workerKey = workerKeyHex(decoded.pubkey)
  if (!verifySignature(endpointSigningMessage(payload), signature, decoded.pubkey)) {
    throw new PRouterError('ERR_BINDING_SIGNATURE', `binding of ${workerKey}: signature does not verify`, {
      detail: { workerKey },
    })
  }
  return {
    workerKey,
    endpoints: [...decoded.endpoints],
    signingTime: Number(decoded.signingTime),
    binding: { payload, signature },
  }
}

export function bindingToJson(b: SignedBinding): { payload: string; signature: string } {
  const { payload, signature } = checkShape(b)
  return { payload: toHex(payload), signature: toHex(signature) }
}

/** `{ payload: '0x…', signature: '0x…' }` (other fields ignored) -> a binding whose payload decodes. */
export function bindingFromJson(j: unknown): SignedBinding {
  if (typeof j !== 'object' || j === null || Array.isArray(j)) {
    throw malformed('binding JSON is not an object')
  }
  const { payload, signature } = j as Record<string, unknown>
  const binding = {
    payload: fromHex(payload, 'payload', 2 * MAX_BINDING_PAYLOAD_BYTES),
    signature: fromHex(signature, 'signature', 2 * SIGNATURE_BYTES),
  }
  checkShape(binding)
  decodeEndpointPayload(binding.payload)
  return binding
}

/** Copies, so that a caller's later change to its buffers does not change what was verified. */
function checkShape(value: unknown): SignedBinding {
  const b = (typeof value === 'object' && value !== null ? value : {}) as Partial<SignedBinding>
  if (!(b.payload instanceof Uint8Array) || !(b.signature instanceof Uint8Array)) {
    throw malformed('a binding is { payload: Uint8Array, signature: Uint8Array }')
  }
  if (b.signature.length !== SIGNATURE_BYTES) {
    throw malformed(`signature is ${b.signature.length} bytes, not ${SIGNATURE_BYTES}`)
  }
  return { payload: Uint8Array.from(b.payload), signature: Uint8Array.from(b.signature) }
}

function toHex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes).toString('hex')}`
}

function fromHex(value: unknown, what: string, maxDigits: number): Uint8Array {
  if (typeof value !== 'string') throw malformed(`${what} is not a string`)
  if (value.length > maxDigits + 2) throw malformed(`${what} is longer than ${maxDigits / 2} bytes`)
  if (!/^0x(?:[0-9a-fA-F]{2})*$/.test(value)) throw malformed(`${what} is not 0x-prefixed hex of whole bytes`)
  return Uint8Array.from(Buffer.from(value.slice(2), 'hex'))
}

function malformed(why: string): PRouterError {
  return new PRouterError('ERR_BINDING_MALFORMED', `binding: ${why}`)
}
