/**
 * Headers across the proxy. Hop-by-hop headers (RFC 9110 §7.6.1, and those named in `Connection`) are not
 * forwarded; `x-prouter-*` headers are PRouter's own: whatever a client or a remote worker sends under that
 * prefix is dropped, and only the receiving daemon sets them — so the service can trust them.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import { ANONYMOUS_PEER } from '../metering/report.js'

/** The calling worker's key (`0x…`), or `anonymous` when its destination has no valid binding. */
export const CALLER_HEADER = 'x-prouter-caller'
/** The calling destination's b32 address, always set. */
export const CALLER_ADDRESS_HEADER = 'x-prouter-caller-address'
/** The local API's token may also come in this header (it is never forwarded). */
export const TOKEN_HEADER = 'x-prouter-token'
/** The caller header's value for a caller without a valid binding: also its row in the meters and reports. */
export const ANONYMOUS = ANONYMOUS_PEER

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
])

/** A copy of `headers` fit to forward: no hop-by-hop, no HTTP/2 pseudo-header, no `x-prouter-*`, minus `drop`. */
export function forwardableHeaders(
  headers: IncomingHttpHeaders,
  drop: readonly string[] = [],
): OutgoingHttpHeaders {
  const named = connectionTokens(headers.connection)
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || name.startsWith(':')) continue
    if (name.startsWith('x-prouter-') || drop.includes(name)) continue
    out[name] = value
  }
  return out
}

function connectionTokens(value: string | undefined): Set<string> {
  if (value === undefined) return new Set()
  return new Set(value.split(',').map((t) => t.trim().toLowerCase()))
}
