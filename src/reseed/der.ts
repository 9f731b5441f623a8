/**
 * A tiny DER writer (ITU-T X.690), just what a self-signed X.509 certificate needs. Every value is
 * tag | length | contents; a length below 128 is one byte, a longer one is 0x80 + the count of the big-endian
 * bytes that follow. Constructed values (SEQUENCE, SET, [n] EXPLICIT) hold their elements' encodings.
 */
import { PRouterError } from '../errors.js'

const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const

function tlv(tag: number, contents: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(tag), derLength(contents.length), contents])
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n)
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

export function sequence(...elements: Uint8Array[]): Buffer {
  return tlv(TAG.SEQUENCE, Buffer.concat(elements))
}

/** SET OF, elements in the order given (DER sorts them: callers here pass one element). */
export function set(...elements: Uint8Array[]): Buffer {
  return tlv(TAG.SET, Buffer.concat(elements))
}

/** `[n] EXPLICIT`: a context-specific constructed tag around one element. */
export function explicit(n: number, element: Uint8Array): Buffer {
  return tlv(0xa0 | n, element)
}

export function boolean(value: boolean): Buffer {
  return tlv(TAG.BOOLEAN, Buffer.of(value ? 0xff : 0x00))
}

/** A non-negative INTEGER, minimal: no leading zero byte unless the top bit would make it negative. */
export function integer(value: bigint | number): Buffer {
  const v = BigInt(value)
  if (v < 0n) throw new PRouterError('ERR_INVALID_ARGUMENT', 'DER integer: negative values are not written')
  let hex = v.toString(16)
  if (hex.length % 2 === 1) hex = `0${hex}`
  const bytes = Buffer.from(hex, 'hex')
  return tlv(TAG.INTEGER, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), bytes]) : bytes)
}

export function nullValue(): Buffer {
  return tlv(TAG.NULL, Buffer.alloc(0))
}

/** An OBJECT IDENTIFIER from dotted text: the first two arcs as 40 * a + b, each arc base 128. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => BigInt(a))
  const [a = 0n, b = 0n, ...rest] = arcs
  if (arcs.length < 2 || a > 2n || (a < 2n && b > 39n)) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `DER oid: "${dotted}" is not an object identifier`)
  }
  return tlv(TAG.OID, Buffer.concat([40n * a + b, ...rest].map(base128)))
}

function base128(arc: bigint): Buffer {
  const out = [Number(arc & 0x7fn)]
  for (let v = arc >> 7n; v > 0n; v >>= 7n) out.unshift(Number(v & 0x7fn) | 0x80)
  return Buffer.from(out)
}

export function utf8String(text: string): Buffer {
  return tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'))
}

/** X.509 Time (RFC 5280 4.1.2.5): UTCTime YYMMDDHHMMSSZ for 1950..2049, GeneralizedTime after; whole seconds. */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear()
  if (!Number.isFinite(date.getTime()) || year < 1950 || year > 9999) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `DER time: ${String(date)} is outside 1950..9999`)
  }
  const rest = [date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours()]
    .concat([date.getUTCMinutes(), date.getUTCSeconds()])
    .map((n) => String(n).padStart(2, '0'))
    .join('')
  if (year < 2050) return tlv(TAG.UTC_TIME, Buffer.from(`${String(year % 100).padStart(2, '0')}${rest}Z`))
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(`${year}${rest}Z`))
}

/** A BIT STRING of whole bytes, or with `unusedBits` trailing bits of the last byte unused (must be zero). */
export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.of(unusedBits), bytes]))
}

export function octetString(bytes: Uint8Array): Buffer {
  return tlv(TAG.OCTET_STRING, bytes)
}
