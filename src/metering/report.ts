/**
 * The usage report: what one worker says it carried in one period, signed with its worker key.
 *
 *   { "report": { "version": 1, "workerKey": "0x…", "start": …, "end": …, "transit": {…} | null,
 *                 "router": {…} | null, "peers": [ { "peer": "0x…" | "anonymous" | "other", … } ],
 *                 "restarts": {…}, "gaps": [ … ], "createdAt": … },
 *     "signature": "0x<64 bytes, sr25519>" }
 *
 * Times are ms since the epoch, sizes whole bytes. The signature covers `prouter-usage-report-v1:` followed by
 * the canonical JSON of the report: the fields in the order of `normalize` below, no spaces. `parseUsageReport`
 * refuses unknown fields, so nothing unsigned can ride along. Pure: no I/O, no crypto (registry/usage-reports.ts
 * signs and verifies).
 */
import { PRouterError } from '../errors.js'
import { DAY, MAX_REPORT_GAPS, MAX_REPORT_PEERS } from '../constants.js'

export const USAGE_REPORT_VERSION = 1
export const REPORT_SIGNING_PREFIX = 'prouter-usage-report-v1:'
/** Callers without a valid binding, counted together. */
export const ANONYMOUS_PEER = 'anonymous'
/** Named peers past the meter's bound, counted together. */
export const OTHER_PEERS = 'other'

/** Traffic with one peer in the period, counted at the stream boundary (payload bytes, both directions). */
export interface PeerUsage {
  /** `0x…` worker key, `anonymous` or `other`. */
  peer: string
  /** Bytes read from streams with this peer. */
  bytesIn: number
  /** Bytes written to streams with this peer. */
  bytesOut: number
  /** Requests this worker served for the peer. */
  requestsIn: number
  /** Requests this worker sent to the peer. */
  requestsOut: number
  errors: number
}

/** Why a stretch of the period was not counted in full. */
export type GapCause = 'daemon-down' | 'router-restart' | 'router-unreachable'
export const GAP_CAUSES: readonly GapCause[] = ['daemon-down', 'router-restart', 'router-unreachable']

export interface UsageGap {
  start: number
  end: number
  cause: GapCause
}

export interface TransitUsage {
  /** Bytes the router forwarded for others' tunnels in the period (i2pd's console "Transit"). */
  bytes: number
  /** Participating tunnels integrated over the period: Σ tunnels × seconds. */
  tunnelSeconds: number
  tunnelsMax: number
}

export interface UsageReport {
  version: typeof USAGE_REPORT_VERSION
  workerKey: string
  /** Period start (inclusive) and end (exclusive), ms. */
  start: number
  end: number
  /** null: the router exposes no transit figure (an attached router without console). */
  transit: TransitUsage | null
  /** The router's own totals (all traffic, I2P overhead included); null without I2PControl. */
  router: { bytesSent: number; bytesReceived: number } | null
  /** Sorted by `peer`, each once. */
  peers: PeerUsage[]
  /** Starts of the daemon and of its router within the period. */
  restarts: { daemon: number; router: number }
  /** Sorted, within [start, end]. */
  gaps: UsageGap[]
  createdAt: number
}

export interface SignedUsageReport {
  report: UsageReport
  /** `0x` and 128 hex digits. */
  signature: string
}

/** The last instant a JavaScript Date can hold (ms). */
const MAX_DATE = 8.64e15
const WORKER_KEY = /^0x[0-9a-f]{64}$/
const SIGNATURE = /^0x[0-9a-f]{128}$/

/** The report's canonical JSON: what is signed, and what tells two reports apart whatever their signatures. */
export function canonicalReport(report: UsageReport): string {
  return JSON.stringify(normalize(report))
}

/** The bytes the worker key signs. */
export function reportSigningMessage(report: UsageReport): Uint8Array {
  return new TextEncoder().encode(`${REPORT_SIGNING_PREFIX}${canonicalReport(report)}`)
}

/** A peer entry naming a worker (not `anonymous` or `other`): the only kind another report can confirm. */
export function isNamedPeer(peer: string): boolean {
  return WORKER_KEY.test(peer)
}

/** A report as JSON (text or parsed), checked field by field; throws ERR_REPORT_MALFORMED. */
export function parseSignedUsageReport(input: unknown): SignedUsageReport {
  const value = typeof input === 'string' ? parseJson(input) : input
  const o = record(value, 'signed report')
  only(o, ['report', 'signature'], 'signed report')
  if (typeof o.signature !== 'string' || !SIGNATURE.test(o.signature)) {
    throw malformed('signature', 'is not 0x and 128 lower-case hex digits')
  }
  return { report: parseUsageReport(o.report), signature: o.signature }
}

export function parseUsageReport(input: unknown): UsageReport {
  const o = record(input, 'report')
  only(o, REPORT_FIELDS, 'report')
  if (o.version !== USAGE_REPORT_VERSION) throw malformed('version', `is not ${USAGE_REPORT_VERSION}`)
  if (typeof o.workerKey !== 'string' || !WORKER_KEY.test(o.workerKey)) {
    throw malformed('workerKey', 'is not 0x and 64 lower-case hex digits')
  }
  const start = int(o.start, 'start')
  const end = int(o.end, 'end')
  if (end <= start || end - start > DAY) throw malformed('end', 'must be after start, at most a day later')
  if (end > MAX_DATE) throw malformed('end', 'is past any date a report may name')
  return normalize({
    version: USAGE_REPORT_VERSION,
    workerKey: o.workerKey,
    start,
    end,
    transit: o.transit === null ? null : transit(o.transit),
    router: o.router === null ? null : routerTotals(o.router),
    peers: peers(o.peers, o.workerKey),
    restarts: restarts(o.restarts),
    gaps: gaps(o.gaps, start, end),
    createdAt: int(o.createdAt, 'createdAt'),
  })
}

/** The report with its fields in signing order (the order JSON.stringify writes them). */
function normalize(r: UsageReport): UsageReport {
  return {
    version: r.version,
    workerKey: r.workerKey,
    start: r.start,
    end: r.end,
    transit:
      r.transit === null
        ? null
        : {
            bytes: r.transit.bytes,
            tunnelSeconds: r.transit.tunnelSeconds,
            tunnelsMax: r.transit.tunnelsMax,
          },
    router:
      r.router === null ? null : { bytesSent: r.router.bytesSent, bytesReceived: r.router.bytesReceived },
    peers: r.peers.map((p) => ({
      peer: p.peer,
      bytesIn: p.bytesIn,
      bytesOut: p.bytesOut,
      requestsIn: p.requestsIn,
      requestsOut: p.requestsOut,
      errors: p.errors,
    })),
    restarts: { daemon: r.restarts.daemon, router: r.restarts.router },
    gaps: r.gaps.map((g) => ({ start: g.start, end: g.end, cause: g.cause })),
    createdAt: r.createdAt,
  }
}

const REPORT_FIELDS = [
  'version',
  'workerKey',
  'start',
  'end',
  'transit',
  'router',
  'peers',
  'restarts',
  'gaps',
  'createdAt',
]

function transit(value: unknown): TransitUsage {
  const o = record(value, 'transit')
  only(o, ['bytes', 'tunnelSeconds', 'tunnelsMax'], 'transit')
  return {
    bytes: int(o.bytes, 'transit.bytes'),
    tunnelSeconds: int(o.tunnelSeconds, 'transit.tunnelSeconds'),
    tunnelsMax: int(o.tunnelsMax, 'transit.tunnelsMax'),
  }
}

function routerTotals(value: unknown): { bytesSent: number; bytesReceived: number } {
  const o = record(value, 'router')
  only(o, ['bytesSent', 'bytesReceived'], 'router')
  return {
    bytesSent: int(o.bytesSent, 'router.bytesSent'),
    bytesReceived: int(o.bytesReceived, 'router.bytesReceived'),
  }
}

function peers(value: unknown, self: string): PeerUsage[] {
  if (!Array.isArray(value)) throw malformed('peers', 'is not an array')
  if (value.length > MAX_REPORT_PEERS) throw malformed('peers', `has more than ${MAX_REPORT_PEERS} entries`)
  const list = value.map((v: unknown, i) => peer(v, `peers[${i}]`))
  for (let i = 0; i < list.length; i++) {
    const p = list[i] as PeerUsage
    if (p.peer === self) throw malformed(`peers[${i}].peer`, 'is the reporting worker itself')
    if (i > 0 && (list[i - 1] as PeerUsage).peer >= p.peer) {
      throw malformed(`peers[${i}].peer`, 'is out of order or repeated (peers are sorted, each once)')
    }
  }
  return list
}

function peer(value: unknown, at: string): PeerUsage {
  const o = record(value, at)
  only(o, ['peer', 'bytesIn', 'bytesOut', 'requestsIn', 'requestsOut', 'errors'], at)
  const name = o.peer
  if (
    typeof name !== 'string' ||
    !(WORKER_KEY.test(name) || name === ANONYMOUS_PEER || name === OTHER_PEERS)
  ) {
    throw malformed(`${at}.peer`, `is not a worker key, "${ANONYMOUS_PEER}" or "${OTHER_PEERS}"`)
  }
  return {
    peer: name,
    bytesIn: int(o.bytesIn, `${at}.bytesIn`),
    bytesOut: int(o.bytesOut, `${at}.bytesOut`),
    requestsIn: int(o.requestsIn, `${at}.requestsIn`),
    requestsOut: int(o.requestsOut, `${at}.requestsOut`),
    errors: int(o.errors, `${at}.errors`),
  }
}

function restarts(value: unknown): { daemon: number; router: number } {
  const o = record(value, 'restarts')
  only(o, ['daemon', 'router'], 'restarts')
  return { daemon: int(o.daemon, 'restarts.daemon'), router: int(o.router, 'restarts.router') }
}

function gaps(value: unknown, start: number, end: number): UsageGap[] {
  if (!Array.isArray(value)) throw malformed('gaps', 'is not an array')
  if (value.length > MAX_REPORT_GAPS) throw malformed('gaps', `has more than ${MAX_REPORT_GAPS} entries`)
  let last = start
  return value.map((v: unknown, i) => {
    const at = `gaps[${i}]`
    const o = record(v, at)
    only(o, ['start', 'end', 'cause'], at)
    const g = { start: int(o.start, `${at}.start`), end: int(o.end, `${at}.end`), cause: o.cause as GapCause }
    if (!GAP_CAUSES.includes(g.cause))
      throw malformed(`${at}.cause`, `is not one of ${GAP_CAUSES.join(', ')}`)
    if (g.start < last || g.end < g.start || g.end > end) {
      throw malformed(at, 'is out of the period, out of order or overlapping')
    }
    last = g.end
    return g
  })
}

function int(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw malformed(field, 'is not a whole number >= 0')
  }
  return value
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed(what, 'is not an object')
  return value as Record<string, unknown>
}

function only(o: Record<string, unknown>, fields: readonly string[], what: string): void {
  for (const k of Object.keys(o))
    if (!fields.includes(k)) throw malformed(what, `has an unknown field "${k}"`)
  for (const k of fields) if (!(k in o)) throw malformed(what, `lacks the field "${k}"`)
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw malformed('report', 'is not JSON')
  }
}

function malformed(field: string, why: string): PRouterError {
  return new PRouterError('ERR_REPORT_MALFORMED', `usage report: ${field} ${why}`, { detail: { field } })
}
