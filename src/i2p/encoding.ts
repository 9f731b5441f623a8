/**
 * I2P's text encodings. Base64 with the I2P alphabet: '-' and '~' instead of '+' and '/', '=' padding
 * kept (destinations and private keys in SAM, i2pd's config and address books). Base32 as RFC 4648, lower
 * case, no padding (the 52 characters of a `.b32.i2p` address).
 */
import { PRouterError } from '../errors.js'

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
