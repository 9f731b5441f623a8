/**
 * I2P RouterInfos (the common structures spec; what i2pd writes to router.info and its netDb), parsed
 * strictly and verified against their own signing key:
 *
 *   RouterIdentity   crypto public key 256 | signing key field 128 | certificate: type 1 | length 2 BE | payload
 *                    KEY certificate (type 5) payload: signing type 2 BE | crypto type 2 BE | extra key bytes
 *   published        8 BE, ms since the epoch
 *   addresses        count 1, each: cost 1 | expiration 8 | transport String | options Mapping
 *   peers            count 1, then 32 bytes each (always 0 in practice)
 *   options          Mapping (caps, netId, router.version …)
 *   signature        over every byte before it; 64 bytes for Ed25519
 *
 * Only Ed25519 (signing type 7, what every current router uses) is verified; its 32-byte key sits at the
 * end of the 128-byte signing key field. The router's hash is SHA-256 of the RouterIdentity bytes and its
 * id that hash in I2P base64 (the name in `netDb/r?/routerInfo-<id>.dat`).
 */
import { createHash, createPublicKey, verify } from 'node:crypto'
import { PRouterError } from '../errors.js'
import { DESTINATION_KEYS_BYTES } from './destination.js'
import { encodeI2pBase64 } from './encoding.js'
import { SIGNING_TYPE_ED25519 } from './generate.js'
import { I2pReader } from './reader.js'

/** i2pd treats a larger RouterInfo as malformed (its buffer is 3 KiB). */
export const MAX_ROUTER_INFO_BYTES = 3072
/** The public I2P network; a RouterInfo without a netId option belongs to it. */
export const DEFAULT_NET_ID = 2

const CERTIFICATE_NULL = 0
const CERTIFICATE_KEY = 5
const ED25519_KEY_BYTES = 32
const ED25519_SIGNATURE_BYTES = 64
const PEER_HASH_BYTES = 32

export interface RouterAddress {
  readonly transport: string
  readonly cost: number
  readonly options: Readonly<Record<string, string>>
}

export interface RouterInfo {
  /** The exact input bytes. */
  readonly bytes: Uint8Array
  /** SHA-256 of the RouterIdentity (32 bytes). */
  readonly hash: Uint8Array
  /** I2P base64 of `hash` (44 characters). */
  readonly id: string
  /** ms since the epoch. */
  readonly published: number
  /** options.netId; 2 when absent. */
  readonly netId: number
  /** options.caps; '' when absent. */
  readonly caps: string
  /** caps has 'f'. */
  readonly floodfill: boolean
  /** Some address has a `host` option (others can connect to it). */
  readonly reachable: boolean
  /** options['router.version']; '' when absent. */
  readonly version: string
  readonly addresses: readonly RouterAddress[]
  readonly options: Readonly<Record<string, string>>
}

/**
 * Parse and verify the self-signature. Throws PRouterError: ERR_ROUTER_INFO_MALFORMED (size, truncation,
 * trailing bytes, bad Mapping; the message names the field and offset), ERR_ROUTER_INFO_UNSUPPORTED (a
 * signing type other than Ed25519), ERR_ROUTER_INFO_SIGNATURE.
 */
export function readRouterInfo(bytes: Uint8Array): RouterInfo {
  const input = Buffer.from(bytes)
  if (input.length > MAX_ROUTER_INFO_BYTES) {
    throw new PRouterError(
      'ERR_ROUTER_INFO_MALFORMED',
      `router info: ${input.length} bytes, more than the ${MAX_ROUTER_INFO_BYTES} i2pd reads`,
      { detail: { length: input.length } },
    )
  }
  const reader = new I2pReader(input, 'router info', 'ERR_ROUTER_INFO_MALFORMED')
  const signingKey = readIdentity(reader)
  const identity = input.subarray(0, reader.offset)
  const body = readBody(reader)
  const signed = input.subarray(0, reader.offset)
  verifySignature(signingKey, signed, readSignature(reader))
  return describe(input, identity, body)
}

/** The RouterIdentity; returns its Ed25519 public key. */
function readIdentity(reader: I2pReader): Buffer {
  const keys = reader.take(DESTINATION_KEYS_BYTES, 'router identity keys')
  const certificateType = reader.u8('certificate type')
  const payload = reader.take(reader.u16('certificate length'), 'certificate payload')
  if (certificateType === CERTIFICATE_NULL) throw unsupported('DSA-SHA1 (no key certificate)')
  if (certificateType !== CERTIFICATE_KEY) {
    throw reader.fail(`certificate type ${certificateType} is neither NULL (0) nor KEY (5)`)
  }
  if (payload.length < 4) throw reader.fail(`key certificate payload of ${payload.length} bytes, under 4`)
  const signingType = payload.readUInt16BE(0)
  if (signingType !== SIGNING_TYPE_ED25519) throw unsupported(`signing type ${signingType}`)
  if (payload.length !== 4) {
    throw reader.fail(`Ed25519 key certificate payload of ${payload.length} bytes, not 4`)
  }
  return keys.subarray(DESTINATION_KEYS_BYTES - ED25519_KEY_BYTES)
}

interface Body {
  published: number
  addresses: RouterAddress[]
  options: Map<string, string>
}

function readBody(reader: I2pReader): Body {
  const published = reader.u64('published')
  if (published > BigInt(Number.MAX_SAFE_INTEGER)) throw reader.fail(`published ${published} is out of range`)
  const addresses: RouterAddress[] = []
  const count = reader.u8('address count')
  for (let i = 0; i < count; i++) addresses.push(readAddress(reader, i))
  reader.take(PEER_HASH_BYTES * reader.u8('peer count'), 'peers')
  return { published: Number(published), addresses, options: reader.mapping('options') }
}

function readAddress(reader: I2pReader, index: number): RouterAddress {
  const cost = reader.u8(`address ${index} cost`)
  reader.u64(`address ${index} expiration`)
  const transport = reader.string(`address ${index} transport`)
  const options = frozen(reader.mapping(`address ${index} options`))
  return Object.freeze({ transport, cost, options })
}

function readSignature(reader: I2pReader): Buffer {
  if (reader.remaining > ED25519_SIGNATURE_BYTES) {
    const extra = reader.remaining - ED25519_SIGNATURE_BYTES
    throw reader.fail(`${extra} trailing bytes after the signature (which starts at offset ${reader.offset})`)
  }
  return reader.take(ED25519_SIGNATURE_BYTES, 'Ed25519 signature')
}

function verifySignature(publicKey: Buffer, signed: Buffer, signature: Buffer): void {
  let valid: boolean
  try {
    const key = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url') },
      format: 'jwk',
    })
    valid = verify(null, signed, key, signature)
  } catch {
    valid = false // a key that is no curve point verifies nothing
  }
  if (!valid) {
    throw new PRouterError('ERR_ROUTER_INFO_SIGNATURE', 'router info: the signature does not verify')
  }
}

function describe(input: Buffer, identity: Buffer, body: Body): RouterInfo {
  const hash = createHash('sha256').update(identity).digest()
  const options = frozen(body.options)
  const caps = options.caps ?? ''
  return Object.freeze({
    bytes: new Uint8Array(input),
    hash: new Uint8Array(hash),
    id: encodeI2pBase64(hash),
    published: body.published,
    netId: netIdOf(options.netId),
    caps,
    floodfill: caps.includes('f'),
    reachable: body.addresses.some((a) => a.options.host !== undefined),
    version: options['router.version'] ?? '',
    addresses: Object.freeze(body.addresses),
    options,
  })
}

function netIdOf(value: string | undefined): number {
  if (value === undefined) return DEFAULT_NET_ID
  if (!/^\d{1,9}$/.test(value)) {
    throw new PRouterError('ERR_ROUTER_INFO_MALFORMED', `router info: netId "${value}" is not a number`)
  }
  return Number(value)
}

/** A frozen plain record; fromEntries defines keys, so "__proto__" is a key like any other. */
function frozen(map: Map<string, string>): Readonly<Record<string, string>> {
  return Object.freeze(Object.fromEntries(map))
}

function unsupported(what: string): PRouterError {
  return new PRouterError(
    'ERR_ROUTER_INFO_UNSUPPORTED',
    `router info: ${what} is not supported (only Ed25519, signing type ${SIGNING_TYPE_ED25519})`,
  )
}
