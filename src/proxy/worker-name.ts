/**
 * How a worker is named where a host name is expected (the HTTP proxy's absolute URLs, CONNECT targets):
 *
 *   <name>.prouter[:port]    name = 0x<64 hex> | <64 hex> | <52 base32>  (the 32-byte sr25519 worker key)
 *
 * The base32 form (RFC 4648, lower case, no padding: 52 characters, the last one 'a' or 'q') fits in one
 * DNS label (63 characters at most), so it also passes clients that check host names; the hex forms are what
 * the registry and pRuntime print. The port, if any, is ignored: a worker has one service.
 */
import { PRouterError } from '../errors.js'
import { base32 } from '../i2p/index.js'
import { parseWorkerKey, workerKeyHex } from '../identity/index.js'

export const WORKER_HOST_SUFFIX = '.prouter'

const HEX = /^(0x)?[0-9a-f]{64}$/
const BASE32 = /^[a-z2-7]{51}[aq]$/
const B32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** The worker key (`0x` + 64 hex) named by `host` (`<name>.prouter`, with or without a port). */
export function workerKeyFromHost(host: string): string {
  const name = stripPort(host.trim().toLowerCase())
  if (!name.endsWith(WORKER_HOST_SUFFIX)) throw badName(host)
  return workerKeyFromName(name.slice(0, -WORKER_HOST_SUFFIX.length), host)
}

/** The worker key named by `name` (0x-hex, hex or base32, no suffix). */
export function workerKeyFromName(name: string, shown = name): string {
  const n = name.toLowerCase()
  if (HEX.test(n)) return workerKeyHex(parseWorkerKey(n.startsWith('0x') ? n : `0x${n}`))
  if (BASE32.test(n)) return workerKeyHex(decodeBase32Key(n))
  throw badName(shown)
}

/** `<52 base32>.prouter`: the DNS-safe host name of a worker key. */
export function workerHost(workerKey: string): string {
  return `${base32(parseWorkerKey(workerKey))}${WORKER_HOST_SUFFIX}`
}

function decodeBase32Key(text: string): Uint8Array {
  const out = new Uint8Array(32)
  let bits = 0
  let value = 0
  let at = 0
  for (const ch of text) {
    value = ((value << 5) | B32_ALPHABET.indexOf(ch)) & 0xffff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      if (at < 32) out[at++] = (value >> bits) & 0xff
    }
  }
  return out
}

function stripPort(host: string): string {
  const colon = host.lastIndexOf(':')
  return colon > 0 && /^\d{1,5}$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host
}

function badName(host: string): PRouterError {
  return new PRouterError(
    'ERR_INVALID_WORKER_KEY',
    `"${host.slice(0, 100)}" names no worker: use 0x<64 hex>, <64 hex> or <52 base32>, then ${WORKER_HOST_SUFFIX}`,
  )
}
