/**
 * SU3, I2P's signed file format, as i2pd 2.56 reads a reseed bundle (libi2pd/Reseed.cpp). PRouter writes
 * and reads one kind: a zip of RouterInfos (file type 0, content type 3), signed RSA-SHA512-4096 (type 6,
 * the only type i2pd verifies). All integers big-endian.
 *
 *   0  "I2Psu3" 00            7   format version 0       8  signature type u16 (6)   10 signature length u16 (512)
 *   12 unused                 13  version length u8 (>= 16)  14 unused               15 signer ID length u8
 *   16 content length u64     24  unused                 25  file type (0 = zip)     26 unused
 *   27 content type (3 = reseed)                         28  12 unused bytes
 *   40 version (ASCII, zero-padded) | signer ID | content | signature
 *
 * The signature covers every byte before it. i2pd computes s^e mod n with the modulus of the certificate
 * whose issuer CN is the signer ID and compares the last 64 bytes with SHA-512 of the signed bytes; a
 * PKCS#1 v1.5 RSA-SHA512 signature ends with exactly those bytes. Unused bytes are written zero and must be
 * zero when read.
 */
import type { KeyObject } from 'node:crypto'
import { createPublicKey, sign, verify, X509Certificate } from 'node:crypto'
import { PRouterError } from '../errors.js'
import { assertSignerId } from './signer-id.js'

export const SU3_HEADER_LENGTH = 40
export const SU3_SIGNATURE_TYPE_RSA_SHA512_4096 = 6
export const SU3_SIGNATURE_LENGTH = 512
export const SU3_FILE_TYPE_ZIP = 0
export const SU3_CONTENT_TYPE_RESEED = 3
const MAGIC = Buffer.from('I2Psu3\0', 'latin1')
const MIN_VERSION_LENGTH = 16
const UNUSED_BYTES = [12, 14, 24, 26, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39]
const ASCII = /^[\x20-\x7e]+$/

export interface Su3Init {
  /** The zip of RouterInfos. */
  content: Uint8Array
  signerId: string
  /** Printable ASCII, at most 255 bytes; default: the current unix time in seconds. */
  version?: string
  /** RSA-4096 private key of the signer. */
  privateKey: KeyObject
}

export interface Su3File {
  signerId: string
  version: string
  fileType: number
  contentType: number
  content: Buffer
  /** true when the signature was checked against a trusted signer's key (options.trusted given). */
  verified: boolean
}

/** Signer ID -> its public key, or the PEM of its reseed certificate. */
export type TrustedSigners = ReadonlyMap<string, KeyObject | string>

export function writeSu3(init: Su3Init): Buffer {
  const key = assertRsa4096(init.privateKey, 'private', 'SU3 signing key')
  const signerId = Buffer.from(assertSignerId(init.signerId), 'ascii')
  const version = versionField(init.version ?? String(Math.floor(Date.now() / 1000)))
  if (init.content.length === 0) throw new PRouterError('ERR_INVALID_ARGUMENT', 'SU3 content: empty')
  const header = Buffer.alloc(SU3_HEADER_LENGTH)
  MAGIC.copy(header, 0)
  header.writeUInt16BE(SU3_SIGNATURE_TYPE_RSA_SHA512_4096, 8)
  header.writeUInt16BE(SU3_SIGNATURE_LENGTH, 10)
  header.writeUInt8(version.length, 13)
  header.writeUInt8(signerId.length, 15)
  header.writeBigUInt64BE(BigInt(init.content.length), 16)
  header.writeUInt8(SU3_FILE_TYPE_ZIP, 25)
  header.writeUInt8(SU3_CONTENT_TYPE_RESEED, 27)
  const signed = Buffer.concat([header, version, signerId, init.content])
  return Buffer.concat([signed, sign('sha512', signed, key)])
}

function versionField(version: string): Buffer {
  if (!ASCII.test(version) || version.length > 255) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', 'SU3 version: must be 1..255 printable ASCII characters')
  }
  const field = Buffer.alloc(Math.max(MIN_VERSION_LENGTH, version.length))
  field.write(version, 'ascii')
  return field
}

/**
 * Parse `bytes` as a PRouter SU3 reseed bundle (ERR_SU3_MALFORMED on any header field out of place). With
 * `trusted`, also verify: ERR_SU3_UNTRUSTED_SIGNER for a signer not in the map, ERR_SU3_SIGNATURE when
 * the signature does not verify with its key.
 */
export function readSu3(bytes: Uint8Array, options: { trusted?: TrustedSigners } = {}): Su3File {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const layout = parseHeader(b)
  const file: Su3File = {
    version: readVersion(b.subarray(layout.version, layout.signerId)),
    signerId: readSignerId(b.subarray(layout.signerId, layout.content), layout.signerId),
    fileType: b.readUInt8(25),
    contentType: b.readUInt8(27),
    content: Buffer.from(b.subarray(layout.content, layout.signature)),
    verified: false,
  }
  if (options.trusted === undefined) return file
  const key = trustedKey(options.trusted, file.signerId)
  if (!verify('sha512', b.subarray(0, layout.signature), key, b.subarray(layout.signature))) {
    throw new PRouterError(
      'ERR_SU3_SIGNATURE',
      `SU3 signature does not verify with the key of signer "${file.signerId}"`,
      { detail: { signerId: file.signerId } },
    )
  }
  return { ...file, verified: true }
}

interface Layout {
  version: number
  signerId: number
  content: number
  signature: number
}

/** Offsets of the four parts, after checking every header field against what PRouter writes. */
function parseHeader(b: Buffer): Layout {
  if (b.length < SU3_HEADER_LENGTH) throw malformed('header', 0, `${b.length} bytes, shorter than the header`)
  if (!b.subarray(0, 7).equals(MAGIC)) throw malformed('magic', 0, 'not "I2Psu3" followed by a zero byte')
  expectField(b.readUInt8(7), 0, 'format version', 7)
  expectField(b.readUInt16BE(8), SU3_SIGNATURE_TYPE_RSA_SHA512_4096, 'signature type', 8)
  expectField(b.readUInt16BE(10), SU3_SIGNATURE_LENGTH, 'signature length', 10)
  expectField(b.readUInt8(25), SU3_FILE_TYPE_ZIP, 'file type', 25)
  expectField(b.readUInt8(27), SU3_CONTENT_TYPE_RESEED, 'content type', 27)
  for (const at of UNUSED_BYTES) expectField(b.readUInt8(at), 0, 'unused byte', at)
  const versionLength = b.readUInt8(13)
  if (versionLength < MIN_VERSION_LENGTH) throw malformed('version length', 13, `${versionLength} < 16`)
  const signerIdLength = b.readUInt8(15)
  if (signerIdLength === 0) throw malformed('signer ID length', 15, 'zero')
  const content = SU3_HEADER_LENGTH + versionLength + signerIdLength
  const expected = b.length - content - SU3_SIGNATURE_LENGTH
  const contentLength = b.readBigUInt64BE(16)
  if (expected <= 0 || contentLength !== BigInt(expected)) {
    const holds = `the file holds ${Math.max(expected, 0)} bytes of content`
    throw malformed('content length', 16, `${String(contentLength)} where ${holds}`)
  }
  const signature = b.length - SU3_SIGNATURE_LENGTH
  return { version: SU3_HEADER_LENGTH, signerId: content - signerIdLength, content, signature }
}

function expectField(actual: number, expected: number, field: string, offset: number): void {
  if (actual !== expected) throw malformed(field, offset, `${actual}, expected ${expected}`)
}

/** ASCII, then zero padding only. */
function readVersion(field: Buffer): string {
  const end = field.indexOf(0)
  const version = field.subarray(0, end === -1 ? field.length : end).toString('latin1')
  const padding = end === -1 ? Buffer.alloc(0) : field.subarray(end)
  if (!ASCII.test(version) || padding.some((x) => x !== 0)) {
    throw malformed('version', SU3_HEADER_LENGTH, 'not printable ASCII followed by zero padding')
  }
  return version
}

function readSignerId(field: Buffer, offset: number): string {
  const signerId = field.toString('latin1')
  if (!/^[\x21-\x7e]+$/.test(signerId)) {
    throw malformed('signer ID', offset, 'not printable ASCII without spaces')
  }
  return signerId
}

function trustedKey(trusted: TrustedSigners, signerId: string): KeyObject {
  const entry = trusted.get(signerId)
  if (entry === undefined) {
    throw new PRouterError('ERR_SU3_UNTRUSTED_SIGNER', `SU3 signer "${signerId}" is not trusted`, {
      detail: { signerId, trusted: [...trusted.keys()] },
    })
  }
  const key = typeof entry === 'string' ? certificateKey(entry, signerId) : entry
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  return assertRsa4096(publicKey, 'public', `trusted key of "${signerId}"`)
}

function certificateKey(pem: string, signerId: string): KeyObject {
  try {
    return new X509Certificate(pem).publicKey
  } catch (cause) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `trusted certificate of "${signerId}" does not parse`, {
      cause,
    })
  }
}

function assertRsa4096(key: KeyObject, type: 'private' | 'public', what: string): KeyObject {
  const bits = key.asymmetricKeyDetails?.modulusLength
  if (key.type !== type || key.asymmetricKeyType !== 'rsa' || bits !== 4096) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `${what}: must be an RSA-4096 ${type} key`)
  }
  return key
}

function malformed(field: string, offset: number, why: string): PRouterError {
  return new PRouterError('ERR_SU3_MALFORMED', `SU3 ${field} (offset ${offset}): ${why}`, {
    detail: { field, offset },
  })
}
