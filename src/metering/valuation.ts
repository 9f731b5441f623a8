/**
 * Valuation of verified usage reports over a window [from, to): what share of the work each worker did.
 *
 * Taken in: reports whose period lies inside the window (start >= from and end <= to). A worker that signed
 * two different reports for one period start, or reports of overlapping periods (equivocation, see
 * cross-check.ts; found among all the reports given, so across the window's edges too), loses all of them;
 * identical duplicates count once. Then, for each worker w that has reports left:
 *
 *   transit_w  = Σ over w's reports of min(transit.bytes, router.bytesSent)
 *                (router null: transit.bytes alone; transit null: 0) — transit beyond what the router sent
 *                at all cannot be true
 *   confirmed(A→B) = min(Σ A.bytesOut→B, Σ B.bytesIn←A), both sums over the periods in which A and B both
 *                have a report (sums over the whole window first, then the min, so period-edge skew cancels)
 *   peer_w     = Σ over every other reporting worker p of confirmed(w→p) + confirmed(p→w)
 *                (`anonymous` and `other` are not counted: nobody can confirm them)
 *   score_w    = transitWeight × transit_w + peerWeight × peer_w      (weights default to 1)
 *   share_w    = score_w / Σ score   (0 for everyone when Σ score is 0)
 *
 * Rows are sorted by share (descending), then worker key. Byte sums are checked to stay safe integers
 * (ERR_INVALID_ARGUMENT otherwise). Pure: no I/O, no crypto (reports come in verified).
 */
import { PRouterError } from '../errors.js'
import { DEFAULT_VALUATION_PEER_WEIGHT, DEFAULT_VALUATION_TRANSIT_WEIGHT } from '../constants.js'
import { indexReports, type IndexedReport, type ReportIndex } from './cross-check.js'
import { isNamedPeer, type UsageReport } from './report.js'
import { countedMs } from './gaps.js'

export interface ValuationOptions {
  /** Window start (inclusive) and end (exclusive), ms. */
  from: number
  to: number
  transitWeight?: number
  peerWeight?: number
}

export interface ValuationRow {
  worker: string
  /** Reports counted. */
  reports: number
  /** Reports left out for equivocation. */
  excluded: number
  /** Σ (end − start − gap time) of the reports counted, ms. */
  coveredMs: number
  transitBytes: number
  /** peer_w: Σ of confirmed bytes both ways with every other reporting worker. */
  peerBytesConfirmed: number
  /** Σ bytesIn + bytesOut over the worker keys its reports name, as claimed. */
  peerBytesClaimed: number
  score: number
  share: number
}

export interface Valuation {
  from: number
  to: number
  transitWeight: number
  peerWeight: number
  totalScore: number
  rows: ValuationRow[]
  /** Periods left out because their worker signed different reports for them. */
  equivocations: Array<{ worker: string; start: number; versions: number }>
}

/** See the file comment for the formula. */
export function valueReports(reports: readonly UsageReport[], options: ValuationOptions): Valuation {
  const { from, to } = options
  const transitWeight = options.transitWeight ?? DEFAULT_VALUATION_TRANSIT_WEIGHT
  const peerWeight = options.peerWeight ?? DEFAULT_VALUATION_PEER_WEIGHT
  checkOptions(from, to, transitWeight, peerWeight)
  const index = insideWindow(indexReports(reports), from, to)
  const confirmed = confirmedBytes(index.byWorker)
  const excluded = new Map<string, number>()
  for (const e of index.equivocations) {
    excluded.set(e.worker, (excluded.get(e.worker) ?? 0) + e.reports.length)
  }
  const rows = [...index.byWorker].map(([worker, byStart]) => {
    const own = [...byStart.values()]
    const transitBytes = sum(own.map(({ report }) => transitOf(report)))
    const peerBytesConfirmed = confirmed.get(worker) ?? 0
    return {
      worker,
      reports: own.length,
      excluded: excluded.get(worker) ?? 0,
      coveredMs: sum(own.map(({ report }) => countedMs(report, report.gaps))),
      transitBytes,
      peerBytesConfirmed,
      peerBytesClaimed: sum(own.map(claimedOf)),
      score: transitWeight * transitBytes + peerWeight * peerBytesConfirmed,
      share: 0,
    }
  })
  const totalScore = rows.reduce((s, r) => s + r.score, 0)
  for (const row of rows) row.share = totalScore > 0 ? row.score / totalScore : 0
  rows.sort((a, b) => b.share - a.share || (a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0))
  const equivocations = index.equivocations.map((e) => ({
    worker: e.worker,
    start: e.start,
    versions: e.reports.length,
  }))
  return { from, to, transitWeight, peerWeight, totalScore, rows, equivocations }
}

/**
 * The index restricted to reports inside [from, to), after equivocations were found among all reports: a
 * report overlapping one inside the window from across its edge still takes that one out.
 */
function insideWindow(index: ReportIndex, from: number, to: number): ReportIndex {
  const equivocations = index.equivocations.filter((e) => e.reports.some((r) => r.start < to && r.end > from))
  const equivocated = new Set(equivocations.map((e) => e.worker))
  for (const [worker, byStart] of index.byWorker) {
    for (const [start, { report }] of byStart)
      if (report.start < from || report.end > to) byStart.delete(start)
    if (byStart.size === 0 && !equivocated.has(worker)) index.byWorker.delete(worker)
  }
  return { ...index, equivocations }
}

/** peer_w for every worker: Σ confirmed(w→p) + confirmed(p→w). */
function confirmedBytes(
  byWorker: ReadonlyMap<string, ReadonlyMap<number, IndexedReport>>,
): Map<string, number> {
  // flow "A B" -> [Σ A.bytesOut→B, Σ B.bytesIn←A] over the periods both reported
  const flows = new Map<string, { from: string; to: string; sent: number; received: number }>()
  const flow = (from: string, to: string) => {
    const key = `${from} ${to}`
    let f = flows.get(key)
    if (f === undefined) flows.set(key, (f = { from, to, sent: 0, received: 0 }))
    return f
  }
  for (const [worker, byStart] of byWorker) {
    for (const [start, { peers }] of byStart) {
      for (const p of peers.values()) {
        if (!isNamedPeer(p.peer) || byWorker.get(p.peer)?.get(start) === undefined) continue
        const out = flow(worker, p.peer)
        out.sent = add(out.sent, p.bytesOut)
        const into = flow(p.peer, worker)
        into.received = add(into.received, p.bytesIn)
      }
    }
  }
  const peer = new Map<string, number>()
  for (const { from, to, sent, received } of flows.values()) {
    const confirmed = Math.min(sent, received)
    peer.set(from, add(peer.get(from) ?? 0, confirmed))
    peer.set(to, add(peer.get(to) ?? 0, confirmed))
  }
  return peer
}

/** min(transit.bytes, router.bytesSent); 0 without a transit figure. */
function transitOf(report: UsageReport): number {
  if (report.transit === null) return 0
  return report.router === null
    ? report.transit.bytes
    : Math.min(report.transit.bytes, report.router.bytesSent)
}

function claimedOf({ report }: IndexedReport): number {
  return sum(report.peers.filter((p) => isNamedPeer(p.peer)).map((p) => add(p.bytesIn, p.bytesOut)))
}

function sum(values: readonly number[]): number {
  return values.reduce(add, 0)
}

function add(a: number, b: number): number {
  const s = a + b
  if (!Number.isSafeInteger(s)) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `valuation: a byte sum exceeds 2^53 (${a} + ${b})`)
  }
  return s
}

function checkOptions(from: number, to: number, transitWeight: number, peerWeight: number): void {
  if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && from < to)) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `valuation: [${from}, ${to}) is not a window of ms`)
  }
  for (const [name, w] of [
    ['transitWeight', transitWeight],
    ['peerWeight', peerWeight],
  ] as const) {
    if (!(Number.isFinite(w) && w >= 0)) {
      throw new PRouterError('ERR_INVALID_ARGUMENT', `valuation: ${name} must be a number >= 0, got ${w}`)
    }
  }
}
