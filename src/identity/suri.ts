/**
 * Substrate secret URIs, `<phrase>[//hard][/soft]…[///password]`, read the way @polkadot/util-crypto's
 * `keyExtractSuri` and `DeriveJunction` do (v14), so a URI names the same key here as in @polkadot/keyring.
 * Each junction becomes a 32-byte chain code:
 *
 *   digits only      the number, 256-bit little-endian (as u64 LE for any number below 2^64)
 *   0x + even hex    those bytes
 *   anything else    SCALE Compact<u32> byte length ++ UTF-8 bytes
 *
 * then blake2b-256 of those bytes if longer than 32, else right-padded with zeros to 32. (`subkey` agrees
 * except on a number of 2^64 or more and on `0x` junctions, both of which it reads as strings.)
 */
import { blake2b } from '@noble/hashes/blake2.js'
import { encodeCompactU32 } from './scale.js'

export interface Junction {
  readonly hard: boolean
  /** 32 bytes. */
  readonly chainCode: Uint8Array
}

export interface Suri {
  /** A mnemonic or `0x` and hex digits, NFC-normalized, not yet validated. */
  readonly phrase: string
  readonly path: readonly Junction[]
  /** What follows `///`, possibly empty; `undefined` when there is no `///`. */
  readonly password: string | undefined
}

// keyExtractSuri's pattern, verbatim: group 1 the phrase, group 3 the path, group 6 the password.
const RE_SURI = /^((0x[a-fA-F0-9]+|[\p{L}\d]+(?: [\p{L}\d]+)*))((\/\/?[^/]+)*)(\/\/\/(.*))?$/u
const RE_JUNCTION = /\/\/?[^/]+/g
const RE_NUMBER = /^\d+$/
const RE_HEX = /^0x(?:[\da-fA-F]{2})*$/
const CHAIN_CODE_BYTES = 32
const MAX_NUMERIC_JUNCTION = 2n ** 256n - 1n

/** `undefined` when `suri` is no secret URI (polkadot throws on the same inputs). */
export function parseSuri(suri: string): Suri | undefined {
  const match = RE_SURI.exec(suri.normalize('NFC'))
  if (match === null) return undefined
  const path: Junction[] = []
  for (const part of (match[3] ?? '').match(RE_JUNCTION) ?? []) {
    const hard = part.startsWith('//')
    const chainCode = junctionChainCode(part.slice(hard ? 2 : 1))
    if (chainCode === undefined) return undefined
    path.push({ hard, chainCode })
  }
  return { phrase: match[1] ?? '', path, password: match[6] }
}

/** `undefined` for a number of more than 256 bits, which polkadot refuses. */
export function junctionChainCode(code: string): Uint8Array | undefined {
  if (RE_NUMBER.test(code)) {
    const value = BigInt(code)
    return value > MAX_NUMERIC_JUNCTION ? undefined : littleEndian256(value)
  }
  if (RE_HEX.test(code)) return fit(Uint8Array.from(Buffer.from(code.slice(2), 'hex')))
  const utf8 = new TextEncoder().encode(code)
  const scale = new Uint8Array([...encodeCompactU32(utf8.length), ...utf8])
  return fit(scale)
}

function fit(bytes: Uint8Array): Uint8Array {
  const source = bytes.length > CHAIN_CODE_BYTES ? blake2b(bytes, { dkLen: CHAIN_CODE_BYTES }) : bytes
  const out = new Uint8Array(CHAIN_CODE_BYTES)
  out.set(source)
  return out
}

function littleEndian256(value: bigint): Uint8Array {
  const out = new Uint8Array(CHAIN_CODE_BYTES)
  let v = value
  for (let i = 0; v > 0n; i++) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}
