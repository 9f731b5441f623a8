/**
 * The signed message: what one worker's PRouter hands another's, before fragmentation.
 *
 *   offset size  field
 *        0   19  domain   ASCII "prouter-message-v1:" (a message) or "prouter-request-v1:" (a request: an HTTP
 *                         request carried over datagrams, answered with its response: docs/messages.md)
 *       19   32  sender   the sender's sr25519 worker public key
 *       51   32  receiver the receiver's worker public key
 *       83   16  id       random, chosen by the sender; a retry keeps it
 *       99    8  seq      u64 big-endian: 0 = unordered, else the message's place in its sender's order
 *      107    8  time     u64 big-endian, ms since the epoch when the message was signed
 *      115   32  hash     sha256 of the payload
 *      147   64  sig      sr25519 (context "substrate") by `sender` over bytes 0..146
 *      211    …  payload
 *
 * The domain keeps the signature from meaning anything else the worker key signs (bindings sign 0xff 0x02 …,
 * caller proofs "prouter-caller-proof-v1:"), and a message from being taken for a request or the reverse. Decoding checks the layout only; `verifyMessage` checks the
 * receiver, the time window, the hash and the signature, cheap checks first.
 */
import { createHash, randomBytes } from 'node:crypto'
import { MESSAGE_TIME_WINDOW } from '../constants.js'
import { PRouterError } from '../errors.js'
import { parseWorkerKey, verifySignature, workerKeyHex, type WorkerKeyPair } from '../identity/index.js'

export const MESSAGE_DOMAIN = 'prouter-message-v1:'
export const REQUEST_DOMAIN = 'prouter-request-v1:'
/** What the signed bytes are: a message for the service, or an HTTP request whose answer goes back. */
export type EnvelopeKind = 'message' | 'request'
const DOMAINS: Record<EnvelopeKind, string> = { message: MESSAGE_DOMAIN, request: REQUEST_DOMAIN }
export const MESSAGE_HEADER_BYTES = 211
const SIGNED_BYTES = 147
const AT = { sender: 19, receiver: 51, id: 83, seq: 99, time: 107, hash: 115, sig: 147 } as const

export interface Message {
  readonly kind: EnvelopeKind
  /** `0x` and 64 lower-case hex digits. */
  readonly sender: string
  readonly receiver: string
  /** 32 lower-case hex digits. */
  readonly id: string
  readonly seq: number
  readonly time: number
  readonly payload: Buffer
}

export interface SignOptions {
  receiver: string
  payload: Uint8Array
  id?: string
  seq?: number
  time?: number
  /** Default 'message'. */
  kind?: EnvelopeKind
}

export function newMessageId(): string {
  return randomBytes(16).toString('hex')
}

export function signMessage(pair: WorkerKeyPair, options: SignOptions): Buffer {
  const seq = checkWhole(options.seq ?? 0, 'seq')
  const time = checkWhole(options.time ?? Date.now(), 'time')
  const id = options.id ?? newMessageId()
  if (!/^[0-9a-f]{32}$/.test(id)) throw invalid('a message id is 32 lower-case hex digits')
  const header = Buffer.alloc(MESSAGE_HEADER_BYTES)
  header.write(DOMAINS[options.kind ?? 'message'], 0, 'latin1')
  header.set(pair.publicKey, AT.sender)
  header.set(parseWorkerKey(options.receiver), AT.receiver)
  header.write(id, AT.id, 'hex')
  header.writeBigUInt64BE(BigInt(seq), AT.seq)
  header.writeBigUInt64BE(BigInt(time), AT.time)
  header.set(sha256(options.payload), AT.hash)
  header.set(pair.sign(header.subarray(0, SIGNED_BYTES)), AT.sig)
  return Buffer.concat([header, options.payload])
}

/** The fields, if the bytes have the v1 layout (ERR_MESSAGE_MALFORMED otherwise). Nothing is verified. */
export function decodeMessage(bytes: Buffer): Message {
  if (bytes.length < MESSAGE_HEADER_BYTES) throw malformed(`${bytes.length} bytes: shorter than a header`)
  const domain = bytes.toString('latin1', 0, AT.sender)
  const kind = domain === REQUEST_DOMAIN ? 'request' : 'message'
  if (domain !== DOMAINS[kind]) throw malformed('wrong domain')
  const seq = bytes.readBigUInt64BE(AT.seq)
  const time = bytes.readBigUInt64BE(AT.time)
  if (seq > BigInt(Number.MAX_SAFE_INTEGER) || time > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw malformed('seq or time past what PRouter takes')
  }
  return {
    kind,
    sender: workerKeyHex(bytes.subarray(AT.sender, AT.receiver)),
    receiver: workerKeyHex(bytes.subarray(AT.receiver, AT.id)),
    id: bytes.toString('hex', AT.id, AT.seq),
    seq: Number(seq),
    time: Number(time),
    payload: bytes.subarray(MESSAGE_HEADER_BYTES),
  }
}

export interface MessageExpectation {
  /** This worker's key. */
  self: string
  /** This worker's clock (ms). */
  now: number
  /** How far from `now` the signing time may be, either way (ms); default MESSAGE_TIME_WINDOW. */
  window?: number
}

/** The message, if it is for `self`, signed within the window, and signed by its sender over its payload. */
export function verifyMessage(bytes: Buffer, expected: MessageExpectation): Message {
  const message = decodeMessage(bytes)
  const window = expected.window ?? MESSAGE_TIME_WINDOW
  if (message.receiver !== expected.self.toLowerCase()) {
    throw new PRouterError('ERR_MESSAGE_MISADDRESSED', `message ${message.id} is for ${message.receiver}`)
  }
  if (Math.abs(message.time - expected.now) > window) {
    throw new PRouterError(
      'ERR_MESSAGE_TIME',
      `message ${message.id} was signed ${message.time - expected.now} ms from this clock (window ±${window} ms)`,
    )
  }
  const hashOk = sha256(message.payload).equals(bytes.subarray(AT.hash, AT.sig))
  const signed = bytes.subarray(0, SIGNED_BYTES)
  if (
    !hashOk ||
    !verifySignature(
      signed,
      bytes.subarray(AT.sig, MESSAGE_HEADER_BYTES),
      signed.subarray(AT.sender, AT.receiver),
    )
  ) {
    throw new PRouterError(
      'ERR_MESSAGE_SIGNATURE',
      `message ${message.id} is not signed by ${message.sender}`,
    )
  }
  return message
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest()
}

function checkWhole(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(`${what} is a whole number >= 0`)
  return value
}

function invalid(why: string): PRouterError {
  return new PRouterError('ERR_INVALID_ARGUMENT', `message: ${why}`)
}

function malformed(why: string): PRouterError {
  return new PRouterError('ERR_MESSAGE_MALFORMED', `message: ${why}`)
}
