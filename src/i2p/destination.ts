/**
 * I2P destinations. The binary Destination is
 *
 *   public key (256) | signing public key (128) | certificate: type (1) | length (2, BE) | payload (length)
 *
 * e.g. 391 bytes for Ed25519 (a key certificate with a 4-byte payload). A private key as SAM sends it
 * (SESSION STATUS DESTINATION=, DEST REPLY PRIV=) is that Destination followed by the private keys, so
 * the public part is its first 387 + certificate length bytes. The b32 address is
 * base32(sha256(destination bytes)) + '.b32.i2p'.
 */
import { createHash } from 'node:crypto'
import { PRouterError } from '../errors.js'
import { base32, decodeI2pBase64, encodeI2pBase64 } from './encoding.js'

/** Encryption public key (256) and signing public key (128) fields. */
export const DESTINATION_KEYS_BYTES = 256 + 128
/** Certificate type (1) and payload length (2, big-endian). */
export const CERTIFICATE_HEADER_BYTES = 3

/** Length in bytes of the Destination at the start of `bytes` (387 + certificate payload length). */
export function destinationLength(bytes: Uint8Array, what = 'destination'): number {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buffer.length < DESTINATION_KEYS_BYTES + CERTIFICATE_HEADER_BYTES) throw tooShort(what, buffer.length)
  const length =
    DESTINATION_KEYS_BYTES + CERTIFICATE_HEADER_BYTES + buffer.readUInt16BE(DESTINATION_KEYS_BYTES + 1)
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
  return b32FromDestinationBytes(bytes)
}

/** `<52 base32 characters>.b32.i2p` of the exact destination bytes given (no parsing). */
export function b32FromDestinationBytes(bytes: Uint8Array): string {
  return `${base32(createHash('sha256').update(bytes).digest())}.b32.i2p`
}

function tooShort(what: string, length: number): PRouterError {
  return new PRouterError(
    'ERR_INVALID_ARGUMENT',
    `${what} is too short for an I2P destination (${length} bytes)`,
    { detail: { length } },
  )
}
