/**
 * The endpoint string a worker signs: `i2p://<52 base32 characters>.b32.i2p`, the b32 address of its I2P
 * destination (sha256 of the full destination, RFC 4648 base32, lower case, no padding). 256 bits make 51
 * whole characters and one that carries a single bit, so the last character is 'a' or 'q': any other
 * spelling of the same hash is refused, and one address has one string.
 */
import { PRouterError } from '../errors.js'

const B32 = /^([a-z2-7]{51}[aq])(\.b32\.i2p)?$/
const ENDPOINT = /^i2p:\/\/([a-z2-7]{51}[aq])\.b32\.i2p$/

export function i2pEndpoint(b32: string): string {
  const match = typeof b32 === 'string' ? B32.exec(b32.toLowerCase()) : null
  if (match === null) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `not a b32 address (<52 base32 characters>.b32.i2p)`, {
      detail: { b32: typeof b32 === 'string' ? b32.slice(0, 80) : typeof b32 },
    })
  }
  return `i2p://${match[1] ?? ''}.b32.i2p`
}

/** `<52>.b32.i2p` (lower case) of an `i2p://…` endpoint; undefined for any other endpoint string. */
export function parseI2pEndpoint(endpoint: string): string | undefined {
  if (typeof endpoint !== 'string') return undefined
  const match = ENDPOINT.exec(endpoint.toLowerCase())
  return match?.[1] === undefined ? undefined : `${match[1]}.b32.i2p`
}

const DATAGRAM_ENDPOINT = /^i2p-datagram:\/\/([a-z2-7]{51}[aq])\.b32\.i2p$/

/**
 * `i2p-datagram://<52>.b32.i2p`: the destination a worker takes messages (SAM datagrams) on, published as a
 * second endpoint of its binding. Resolvers that know only `i2p://` ignore it.
 */
export function datagramEndpoint(b32: string): string {
  return i2pEndpoint(b32).replace(/^i2p:/, 'i2p-datagram:')
}

/** `<52>.b32.i2p` of an `i2p-datagram://…` endpoint; undefined for any other endpoint string. */
export function parseDatagramEndpoint(endpoint: string): string | undefined {
  if (typeof endpoint !== 'string') return undefined
  const match = DATAGRAM_ENDPOINT.exec(endpoint.toLowerCase())
  return match?.[1] === undefined ? undefined : `${match[1]}.b32.i2p`
}
