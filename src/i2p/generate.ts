/**
 * A new I2P destination, made locally with node:crypto: no router, no SAM round trip. The bytes are those
 * i2pd's own `PrivateKeys::CreateRandomKeys(7, 0, isDestination)` writes (what SAM `DEST GENERATE
 * SIGNATURE_TYPE=7` answers), so SAM `SESSION CREATE … DESTINATION=<privateKey>` takes them as they are:
 *
 *   Destination (391 bytes)
 *     encryption public key   256   unused by a Destination (its LeaseSet2 carries the session's keys):
 *                                   one random 32-byte block repeated 8 times
 *     signing public key      128   the same block 3 times (96 bytes of padding), then the Ed25519 key (32)
 *     certificate               3   type 5 (KEY), payload length 4 (big-endian)
 *     key certificate payload   4   signing type 7 (Ed25519-SHA512, BE16), crypto type 0 (ElGamal, BE16)
 *   encryption private key    256   random (crypto type 0; it would be 32 for crypto type 4)
 *   signing private key        32   the Ed25519 seed (RFC 8032 private key)
 *
 * = 679 bytes. The repeated padding block is how I2P makes new destinations compressible (proposal 161).
 * Crypto type 0 is what i2pd's SAM and the I2P spec use for Destinations; with it i2pd publishes a LeaseSet2
 * with both ElGamal and ECIES-X25519 keys unless `i2cp.leaseSetEncType` says otherwise.
 */
import { generateKeyPair, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { PRouterError } from '../errors.js'
import { DESTINATION_KEYS_BYTES, b32FromDestinationBytes } from './destination.js'
import { encodeI2pBase64 } from './encoding.js'

export const SIGNING_TYPE_ED25519 = 7
export const CRYPTO_TYPE_ELGAMAL = 0
const CERTIFICATE_TYPE_KEY = 5
const PADDING_BLOCK_BYTES = 32
const ED25519_PUBLIC_KEY_BYTES = 32
const ELGAMAL_PRIVATE_KEY_BYTES = 256
const generateKeyPairAsync = promisify(generateKeyPair)

export interface DestinationKeys {
  /** Destination followed by its private keys, I2P base64: SAM's `DESTINATION=` form. Keep it secret. */
  privateKey: string
  /** Public destination, I2P base64. */
  destination: string
  /** `<52 base32 characters>.b32.i2p`. */
  b32: string
}

/** Async: the Ed25519 key pair is made on libuv's thread pool, off the event loop. */
export async function generateDestinationKeys(): Promise<DestinationKeys> {
  const { seed, publicKey } = await ed25519KeyPair()
  const destination = destinationBytes(randomBytes(PADDING_BLOCK_BYTES), publicKey)
  const keys = destinationKeysOf(destination, randomBytes(ELGAMAL_PRIVATE_KEY_BYTES), seed)
  seed.fill(0)
  return keys
}

/** A destination with its private keys (encryption key, Ed25519 seed) in SAM's forms; wipes its own copy. */
export function destinationKeysOf(
  destination: Buffer,
  encryptionPrivateKey: Uint8Array,
  seed: Uint8Array,
): DestinationKeys {
  const privateBytes = Buffer.concat([destination, encryptionPrivateKey, seed])
  const keys = {
    privateKey: encodeI2pBase64(privateBytes),
    destination: encodeI2pBase64(destination),
    b32: b32FromDestinationBytes(destination),
  }
  privateBytes.fill(0)
  return keys
}

/** The 391-byte Destination: padding, Ed25519 public key, KEY certificate (7, 0). */
export function destinationBytes(padding: Uint8Array, ed25519PublicKey: Uint8Array): Buffer {
  const keys = Buffer.alloc(DESTINATION_KEYS_BYTES)
  const signingKeyAt = DESTINATION_KEYS_BYTES - ED25519_PUBLIC_KEY_BYTES
  for (let at = 0; at < signingKeyAt; at += PADDING_BLOCK_BYTES) keys.set(padding, at)
  keys.set(ed25519PublicKey, signingKeyAt)
  const certificate = Buffer.alloc(7)
  certificate.writeUInt8(CERTIFICATE_TYPE_KEY, 0)
  certificate.writeUInt16BE(4, 1)
  certificate.writeUInt16BE(SIGNING_TYPE_ED25519, 3)
  certificate.writeUInt16BE(CRYPTO_TYPE_ELGAMAL, 5)
  return Buffer.concat([keys, certificate])
}

async function ed25519KeyPair(): Promise<{ seed: Buffer; publicKey: Buffer }> {
  const pair = await generateKeyPairAsync('ed25519')
  const jwk = pair.privateKey.export({ format: 'jwk' })
  if (jwk.d === undefined || jwk.x === undefined) {
    throw new PRouterError('ERR_INTERNAL', 'node:crypto exported an Ed25519 JWK without d or x')
  }
  return { seed: Buffer.from(jwk.d, 'base64url'), publicKey: Buffer.from(jwk.x, 'base64url') }
}
