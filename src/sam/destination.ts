import { createHash } from 'node:crypto'
import { DEFAULT_SAM_COMMAND_TIMEOUT, DEFAULT_SIGNATURE_TYPE } from '../constants.js'
import { invalidOption, PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { destGenerateCommand } from './command.js'
import { openControlSocket } from './control-socket.js'
import { noopLogger } from './noop-logger.js'
import { redactSecrets } from './reply.js'
import { errorFromReply } from './results.js'
import type { SamAddress } from './tcp-connect.js'

/**
 * I2P destinations. The binary Destination is
 *
 *   public key (256) | signing public key (128) | certificate: type (1) | length (2, BE) | payload (length)
 *
 * e.g. 391 bytes for Ed25519 (a key certificate with a 4-byte payload). A private key as SAM sends it
 * (SESSION STATUS DESTINATION=, DEST REPLY PRIV=) is that Destination followed by the private keys, so
 * the public part is its first 387 + certificate length bytes. Text form is base64 with the I2P alphabet
 * ('-' and '~' for '+' and '/'); the b32 address is base32(sha256(destination bytes)) + '.b32.i2p'.
 */

const KEYS_BYTES = 256 + 128
const CERT_HEADER_BYTES = 3
const I2P_BASE64 = /^[A-Za-z0-9~-]+={0,2}$/
const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

export function decodeI2pBase64(text: string, what = 'destination'): Buffer {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !I2P_BASE64.test(text)) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `${what} is not I2P base64`, { detail: { what } })
  }
  return Buffer.from(text.replaceAll('-', '+').replaceAll('~', '/'), 'base64')
}

export function encodeI2pBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replaceAll('+', '-').replaceAll('/', '~')
}

/** Length in bytes of the Destination at the start of `bytes` (387 + certificate payload length). */
export function destinationLength(bytes: Uint8Array, what = 'destination'): number {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buffer.length < KEYS_BYTES + CERT_HEADER_BYTES) throw tooShort(what, buffer.length)
  const length = KEYS_BYTES + CERT_HEADER_BYTES + buffer.readUInt16BE(KEYS_BYTES + 1)
  if (buffer.length < length) throw tooShort(what, buffer.length)
  return length
}

/** The public destination (base64) inside a private key (base64), found by parsing its certificate. */
export function publicDestinationFromPrivate(privateKey: string): string {
  const bytes = decodeI2pBase64(privateKey, 'private key')
  const length = destinationLength(bytes, 'private key')
  if (bytes.length === length) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', 'private key holds a destination and no private keys')
  }
  return encodeI2pBase64(bytes.subarray(0, length))
}

/** `<52 base32 characters>.b32.i2p` of a public destination (base64); refuses a private key. */
export function b32FromDestination(destination: string): string {
  const bytes = decodeI2pBase64(destination)
  if (destinationLength(bytes) !== bytes.length) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', 'destination has bytes past its certificate', {
      detail: { length: bytes.length },
    })
  }
  return `${base32(createHash('sha256').update(bytes).digest())}.b32.i2p`
}

/** RFC 4648 base32, lower case, no padding. */
export function base32(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff
    bits += 8
    while (bits >= 5) {
      out += BASE32_ALPHABET.charAt((value >>> (bits - 5)) & 31)
      bits -= 5
    }
  }
  if (bits > 0) out += BASE32_ALPHABET.charAt((value << (5 - bits)) & 31)
  return out
}

export interface SamCallOptions {
  signal?: AbortSignal
  timeout?: number
  logger?: Logger
}

export interface GeneratedDestination {
  /** Public destination, base64. */
  destination: string
  /** Private key, base64: keep it secret. */
  privateKey: string
  b32: string
}

/** `DEST GENERATE SIGNATURE_TYPE=…` on a fresh connection; the reply's PUB is checked against its PRIV. */
export async function generateDestination(
  sam: SamAddress,
  options: SamCallOptions & { signatureType?: number } = {},
): Promise<GeneratedDestination> {
  const signatureType = options.signatureType ?? DEFAULT_SIGNATURE_TYPE
  if (!Number.isInteger(signatureType) || signatureType < 0 || signatureType > 0xffff) {
    throw invalidOption('signatureType', `must be an integer in 0..65535, got ${String(signatureType)}`)
  }
  const command = destGenerateCommand(signatureType)
  const control = await openControlSocket({ sam }, { logger: options.logger ?? noopLogger() }, options)
  try {
    const reply = await control.command(command, options)
    const { RESULT: result, PUB: destination, PRIV: privateKey } = reply.values
    const context = `DEST GENERATE via ${control.address}`
    if (result !== undefined && result !== 'OK') throw errorFromReply(reply, context)
    if (destination === undefined || privateKey === undefined || !matches(destination, privateKey)) {
      throw new PRouterError('ERR_SAM_PROTOCOL', `${context}: no matching PUB and PRIV in the reply`, {
        detail: { raw: redactSecrets(reply.raw) },
      })
    }
    return { destination, privateKey, b32: b32FromDestination(destination) }
  } finally {
    await control.close()
  }
}

/** Connect, HELLO, close: the negotiated SAM version. A readiness probe for a router. */
export async function samHello(sam: SamAddress, options: SamCallOptions = {}): Promise<string> {
  const timeout = options.timeout ?? DEFAULT_SAM_COMMAND_TIMEOUT
  const control = await openControlSocket(
    { sam },
    { logger: options.logger ?? noopLogger() },
    { ...options, timeout },
  )
  const version = control.version
  await control.close()
  return version
}

function matches(destination: string, privateKey: string): boolean {
  try {
    return publicDestinationFromPrivate(privateKey) === destination
  } catch {
    return false
  }
}

function tooShort(what: string, length: number): PRouterError {
  return new PRouterError(
    'ERR_INVALID_ARGUMENT',
    `${what} is too short for an I2P destination (${length} bytes)`,
    {
      detail: { length },
    },
  )
}
