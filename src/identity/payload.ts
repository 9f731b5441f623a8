/**
 * Phala's `WorkerEndpointPayload` (the registry pallet's `update_worker_endpoint` argument), SCALE-encoded:
 *
 *   pubkey               [u8; 32]                  32 bytes, the worker's sr25519 public key
 *   versioned_endpoints  enum VersionedWorkerEndpoints
 *                          variant index          1 byte, 0x00 = V1 (the only variant)
 *                          V1(Vec<String>)         compact(count), then per string compact(len) ++ UTF-8
 *   signing_time         u64                       8 bytes little-endian, milliseconds since the epoch
 *
 * The worker signs `0xff 0x02 ++ SCALE(payload)`: Phala's `wrap_content_to_sign` with
 * `MessageOrigin::Reserved` (0xff) and `SignedContentType::EndpointInfo` (2).
 */
import { MAX_BINDING_ENDPOINTS, MAX_BINDING_PAYLOAD_BYTES } from '../constants.js'
import { PRouterError } from '../errors.js'
import { encodeCompactU32, encodeU64, ScaleError, ScaleReader } from './scale.js'

export interface WorkerEndpointPayload {
  pubkey: Uint8Array
  endpoints: readonly string[]
  signingTime: bigint
}

export const PUBKEY_BYTES = 32
export const VERSIONED_ENDPOINTS_V1 = 0x00
/** `MessageOrigin::Reserved` then `SignedContentType::EndpointInfo`. */
export const ENDPOINT_SIGNING_PREFIX: readonly number[] = Object.freeze([0xff, 0x02])
const MAX_U64 = 2n ** 64n - 1n

const utf8 = new TextEncoder()
/** Fatal on invalid UTF-8, and a leading U+FEFF is kept as a character (as Rust's String keeps it). */
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

export function encodeEndpointPayload(p: WorkerEndpointPayload): Uint8Array {
  checkPubkey(p.pubkey)
  checkSigningTime(p.signingTime)
  const strings = encodeEndpoints(p.endpoints)
  const parts = [p.pubkey, Uint8Array.of(VERSIONED_ENDPOINTS_V1), encodeCompactU32(strings.length)]
  for (const s of strings) parts.push(encodeCompactU32(s.length), s)
  parts.push(encodeU64(p.signingTime))
  const payload = concat(parts)
  if (payload.length > MAX_BINDING_PAYLOAD_BYTES) {
    throw invalid(`payload of ${payload.length} bytes exceeds ${MAX_BINDING_PAYLOAD_BYTES}`)
  }
  return payload
}

/** Strict: any byte that Phala's decoder would refuse, or that goes past PRouter's limits, is refused. */
export function decodeEndpointPayload(bytes: Uint8Array): WorkerEndpointPayload {
  if (!(bytes instanceof Uint8Array)) throw malformed('payload is not bytes')
  if (bytes.length > MAX_BINDING_PAYLOAD_BYTES) {
    throw malformed(`payload of ${bytes.length} bytes exceeds ${MAX_BINDING_PAYLOAD_BYTES}`)
  }
  try {
    return readPayload(new ScaleReader(bytes))
  } catch (err) {
    if (err instanceof ScaleError) throw malformed(err.message)
    throw err
  }
}

export function endpointSigningMessage(payload: Uint8Array): Uint8Array {
  return concat([Uint8Array.from(ENDPOINT_SIGNING_PREFIX), payload])
}

function readPayload(r: ScaleReader): WorkerEndpointPayload {
  const pubkey = r.bytes(PUBKEY_BYTES, 'pubkey')
  const variant = r.u8('versioned_endpoints')
  if (variant !== VERSIONED_ENDPOINTS_V1) {
    throw new ScaleError(`unknown VersionedWorkerEndpoints variant ${variant}`)
  }
  const count = r.compactU32('endpoint count')
  if (count > MAX_BINDING_ENDPOINTS) {
    throw new ScaleError(`${count} endpoints exceed ${MAX_BINDING_ENDPOINTS}`)
  }
  const endpoints: string[] = []
  for (let i = 0; i < count; i++) endpoints.push(readString(r, `endpoint ${i}`))
  const signingTime = r.u64('signing_time')
  if (r.remaining !== 0) throw new ScaleError(`${r.remaining} bytes after signing_time`)
  return { pubkey, endpoints, signingTime }
}

function readString(r: ScaleReader, what: string): string {
  const bytes = r.bytes(r.compactU32(`${what} length`), what)
  try {
    return utf8Strict.decode(bytes)
  } catch {
    throw new ScaleError(`${what} is not valid UTF-8`)
  }
}

function encodeEndpoints(endpoints: readonly string[]): Uint8Array[] {
  if (!Array.isArray(endpoints)) throw invalid('endpoints must be an array of strings')
  if (endpoints.length > MAX_BINDING_ENDPOINTS) {
    throw invalid(`${endpoints.length} endpoints exceed ${MAX_BINDING_ENDPOINTS}`)
  }
  return endpoints.map((e, i) => {
    if (typeof e !== 'string') throw invalid(`endpoint ${i} is not a string`)
    const bytes = utf8.encode(e)
    // TextEncoder turns a lone surrogate into U+FFFD: refuse rather than sign another string than given.
    if (utf8Strict.decode(bytes) !== e) throw invalid(`endpoint ${i} holds a lone UTF-16 surrogate`)
    return bytes
  })
}

function checkPubkey(pubkey: Uint8Array): void {
  if (!(pubkey instanceof Uint8Array) || pubkey.length !== PUBKEY_BYTES) {
    throw invalid(`pubkey must be ${PUBKEY_BYTES} bytes`)
  }
}

function checkSigningTime(t: bigint): void {
  if (typeof t !== 'bigint' || t < 0n || t > MAX_U64) throw invalid('signingTime must be a u64 bigint')
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

function invalid(why: string): PRouterError {
  return new PRouterError('ERR_INVALID_ARGUMENT', `endpoint payload: ${why}`)
}

function malformed(why: string): PRouterError {
  return new PRouterError('ERR_BINDING_MALFORMED', `endpoint payload: ${why}`)
}
