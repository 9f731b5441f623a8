/**
 * The caller proof: the calling worker signs, with its worker key, that it opens this stream from its own
 * destination to the callee's. It travels once per stream, in the handshake's ping (`x-prouter-proof`), and
 * lets the callee name the caller without believing any reverse lookup (a binding proves what a key claims,
 * not that the key owns the address: anyone may publish "my key -> your b32"; see docs/registry.md).
 *
 * Bytes (248), sent as 496 lower-case hex digits:
 *
 *   offset size  field
 *        0   24  domain   ASCII "prouter-caller-proof-v1:"
 *       24   32  key      the caller's sr25519 worker public key
 *       56   52  caller   the caller's b32 address: 52 ASCII base32 characters, no ".b32.i2p"
 *      108   52  callee   the callee's b32 address, same spelling
 *      160    8  time     signing time, ms since the epoch, unsigned 64-bit big-endian
 *      168   16  nonce    random
 *      184   64  sig      sr25519 signature (context "substrate") by `key` over bytes 0..183
 *
 * The domain keeps the signature from meaning anything else the worker key signs (a binding signs
 * 0xff 0x02 ++ payload; this message starts with 'p'). The verifier here is pure: the callee also checks
 * that the stream's source is `caller` and does the forward registry lookup (src/proxy/inbound.ts).
 */
import { randomBytes } from 'node:crypto'
import { CALLER_PROOF_WINDOW } from '../constants.js'
import { PRouterError } from '../errors.js'
import { verifySignature, workerKeyHex, type WorkerKeyPair } from './worker-key.js'

export const CALLER_PROOF_DOMAIN = 'prouter-caller-proof-v1:'
export const CALLER_PROOF_BYTES = 248
const MESSAGE_BYTES = 184
const B32_LABEL = /^[a-z2-7]{51}[aq]$/
const PROOF_HEX = new RegExp(`^[0-9a-f]{${2 * CALLER_PROOF_BYTES}}$`)
const OFFSET = { key: 24, caller: 56, callee: 108, time: 160, nonce: 168, sig: 184 } as const

export interface CallerProof {
  /** `0x` and 64 lower-case hex digits. */
  workerKey: string
  /** `<52>.b32.i2p` */
  caller: string
  callee: string
  /** ms since the epoch */
  time: number
  nonce: Uint8Array
  signature: Uint8Array
}

export interface ProofExpectation {
  /** The stream's source destination as the router reported it (`<52>.b32.i2p`). */
  source: string
  /** The callee's own b32 address. */
  self: string
  /** The callee's clock (ms). */
  now: number
  /** How far from `now` the signing time may be, either way (ms); default CALLER_PROOF_WINDOW. */
  window?: number
}

/** The header value for a stream from `caller` to `callee` (b32 addresses), signed now. */
export function signCallerProof(
  pair: WorkerKeyPair,
  stream: { caller: string; callee: string },
  options: { time?: number; nonce?: Uint8Array } = {},
): string {
  const time = options.time ?? Date.now()
  if (!Number.isSafeInteger(time) || time < 0) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', 'a caller proof time is a whole number of ms >= 0')
  }
  const nonce = options.nonce ?? randomBytes(16)
  if (nonce.length !== 16) throw new PRouterError('ERR_INVALID_ARGUMENT', 'a caller proof nonce is 16 bytes')
  const message = Buffer.alloc(MESSAGE_BYTES)
  message.write(CALLER_PROOF_DOMAIN, 0, 'latin1')
  message.set(pair.publicKey, OFFSET.key)
  message.write(label(stream.caller, 'caller'), OFFSET.caller, 'latin1')
  message.write(label(stream.callee, 'callee'), OFFSET.callee, 'latin1')
  message.writeBigUInt64BE(BigInt(time), OFFSET.time)
  message.set(nonce, OFFSET.nonce)
  return Buffer.concat([message, pair.sign(message)]).toString('hex')
}

/** The fields of a header value; ERR_CALLER_PROOF_MALFORMED unless it has the v1 layout. Nothing is verified. */
export function decodeCallerProof(header: unknown): CallerProof {
  return parse(header).proof
}

function parse(header: unknown): { proof: CallerProof; message: Buffer } {
  if (typeof header !== 'string' || !PROOF_HEX.test(header)) {
    throw malformed(`not ${2 * CALLER_PROOF_BYTES} lower-case hex digits`)
  }
  const bytes = Buffer.from(header, 'hex')
  if (bytes.toString('latin1', 0, OFFSET.key) !== CALLER_PROOF_DOMAIN) throw malformed('wrong domain')
  const caller = bytes.toString('latin1', OFFSET.caller, OFFSET.callee)
  const callee = bytes.toString('latin1', OFFSET.callee, OFFSET.time)
  if (!B32_LABEL.test(caller) || !B32_LABEL.test(callee)) throw malformed('an address is not a b32 label')
  const time = bytes.readBigUInt64BE(OFFSET.time)
  if (time > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed('time past any date PRouter takes')
  const proof = {
    workerKey: workerKeyHex(bytes.subarray(OFFSET.key, OFFSET.caller)),
    caller: `${caller}.b32.i2p`,
    callee: `${callee}.b32.i2p`,
    time: Number(time),
    nonce: Uint8Array.from(bytes.subarray(OFFSET.nonce, OFFSET.sig)),
    signature: Uint8Array.from(bytes.subarray(OFFSET.sig)),
  }
  return { proof, message: bytes.subarray(0, MESSAGE_BYTES) }
}

/**
 * The proof, if it holds for a stream from `expected.source` to `expected.self` at `expected.now`. Cheap
 * checks first, the signature last; each refusal has its code: MALFORMED, CALLEE, SOURCE, TIME, SIGNATURE.
 */
export function verifyCallerProof(header: unknown, expected: ProofExpectation): CallerProof {
  const { proof, message } = parse(header)
  const window = expected.window ?? CALLER_PROOF_WINDOW
  if (proof.callee !== `${label(expected.self, 'self')}.b32.i2p`) {
    throw new PRouterError('ERR_CALLER_PROOF_CALLEE', `the proof is for ${proof.callee}, not this worker`)
  }
  if (proof.caller !== `${label(expected.source, 'source')}.b32.i2p`) {
    throw new PRouterError(
      'ERR_CALLER_PROOF_SOURCE',
      `the proof names ${proof.caller} but the stream comes from ${expected.source}`,
    )
  }
  if (Math.abs(proof.time - expected.now) > window) {
    throw new PRouterError(
      'ERR_CALLER_PROOF_TIME',
      `the proof was signed ${proof.time - expected.now} ms from this clock (window ±${window} ms)`,
    )
  }
  if (!verifySignature(message, proof.signature, message.subarray(OFFSET.key, OFFSET.caller))) {
    throw new PRouterError('ERR_CALLER_PROOF_SIGNATURE', `the proof is not signed by ${proof.workerKey}`)
  }
  return proof
}

/** The 52-character label of `<52>` or `<52>.b32.i2p` (lower case); ERR_INVALID_ARGUMENT otherwise. */
function label(b32: string, what: string): string {
  const text = typeof b32 === 'string' ? b32.toLowerCase().replace(/\.b32\.i2p$/, '') : ''
  if (!B32_LABEL.test(text)) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `${what} is not a b32 address (<52 base32>.b32.i2p)`)
  }
  return text
}

function malformed(why: string): PRouterError {
  return new PRouterError('ERR_CALLER_PROOF_MALFORMED', `caller proof: ${why}`)
}
