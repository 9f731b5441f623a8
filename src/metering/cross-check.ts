/**
 * Cross-check of verified usage reports: each byte between two named workers is counted twice, at the
 * stream boundary of either side — A's `bytesOut` toward B is what A wrote on streams with B, B's `bytesIn`
 * from A is what B read from streams with A — so two honest reports of one period agree up to the bytes in
 * flight at the period's edges and streams cut short.
 *
 * For every period start both A and B reported, and every direction A → B where at least one of the two
 * names the other, the check compares `sent` (A's bytesOut toward B) with `received` (B's bytesIn from A); a
 * worker that does not name the other counts 0. The pair is flagged 'mismatch' when
 *
 *   |sent − received| > max(tolerance.relative × max(sent, received), tolerance.bytes)
 *
 * A worker with two different signed reports for one period start, or with reports whose periods overlap
 * ([s, e) and [s + 1 ms, e + 1 ms) would count the same instants twice), is flagged 'equivocation', and none
 * of those reports takes part in the comparison (which one is true cannot be told); identical duplicates (the same
 * report, whatever the signature — sr25519 signatures are randomized) are merged. `anonymous` and `other`
 * entries name no one and are not compared. Pure: no I/O, no crypto (reports come in verified).
 */
import { PRouterError } from '../errors.js'
import { DEFAULT_CROSS_CHECK_TOLERANCE_BYTES, DEFAULT_CROSS_CHECK_TOLERANCE_RELATIVE } from '../constants.js'
import { canonicalReport, isNamedPeer, type PeerUsage, type UsageReport } from './report.js'

export interface CrossCheckTolerance {
  /** Share of the larger figure, 0..1. */
  relative: number
  /** Whole bytes. */
  bytes: number
}

export const DEFAULT_CROSS_CHECK_TOLERANCE: Readonly<CrossCheckTolerance> = Object.freeze({
  relative: DEFAULT_CROSS_CHECK_TOLERANCE_RELATIVE,
  bytes: DEFAULT_CROSS_CHECK_TOLERANCE_BYTES,
})

/** The two figures of one direction of one pair disagree beyond tolerance. */
export interface MismatchFinding {
  kind: 'mismatch'
  /** Period start, and its end as the sending worker reported it (ms). */
  start: number
  end: number
  /** The worker that wrote the bytes, and the one that read them. */
  from: string
  to: string
  /** `from`'s bytesOut toward `to`. */
  sent: number
  /** `to`'s bytesIn from `from`. */
  received: number
  difference: number
  /** The largest difference within tolerance for these two figures. */
  limit: number
  /** The worker whose report does not name the other at all (its figure counted as 0). */
  unnamedBy?: string
}

/** A worker signed different reports for one period start, or for periods that overlap. */
export interface EquivocationFinding {
  kind: 'equivocation'
  /** The earliest start among those reports. */
  start: number
  worker: string
  /** How many different reports. */
  versions: number
}

export type CrossCheckFinding = MismatchFinding | EquivocationFinding

export interface CrossCheckSummary {
  /** Different reports taken in (identical duplicates counted once). */
  reports: number
  /** Identical duplicates merged. */
  duplicates: number
  /** Directions of a pair compared (A → B and B → A are two). */
  pairsChecked: number
  withinTolerance: number
  mismatches: number
  equivocations: number
  /** mismatches + equivocations. */
  flagged: number
}

export interface CrossCheck {
  findings: CrossCheckFinding[]
  summary: CrossCheckSummary
}

/** One worker's one report of a period, with its peer entries by name. */
export interface IndexedReport {
  report: UsageReport
  peers: ReadonlyMap<string, PeerUsage>
}

export interface ReportIndex {
  /** worker -> period start -> its report; periods the worker equivocated in are left out. */
  byWorker: Map<string, Map<number, IndexedReport>>
  /**
   * Different reports of one worker for one period start, or for overlapping periods (then `start` is the
   * earliest), in start order.
   */
  equivocations: Array<{ worker: string; start: number; reports: UsageReport[] }>
  reports: number
  duplicates: number
}

/**
 * Group reports by worker and period start: identical duplicates merged, equivocations (several versions of
 * one start, or overlapping periods) set apart.
 */
export function indexReports(reports: readonly UsageReport[]): ReportIndex {
  const groups = new Map<string, Map<number, Map<string, UsageReport>>>()
  let duplicates = 0
  for (const report of reports) {
    const byStart = getOrSet(groups, report.workerKey, () => new Map<number, Map<string, UsageReport>>())
    const versions = getOrSet(byStart, report.start, () => new Map<string, UsageReport>())
    const identity = canonicalReport(report)
    if (versions.has(identity)) duplicates++
    else versions.set(identity, report)
  }
  const index: ReportIndex = { byWorker: new Map(), equivocations: [], reports: 0, duplicates }
  for (const [worker, byStart] of [...groups].sort(byKey)) {
    const kept = new Map<number, IndexedReport>()
    for (const cluster of overlapping([...byStart].sort(byKey))) {
      const list = cluster.flatMap(([, versions]) => [...versions.values()])
      index.reports += list.length
      const [only] = list
      const start = cluster[0]?.[0] ?? 0
      if (list.length > 1 || only === undefined) index.equivocations.push({ worker, start, reports: list })
      else kept.set(start, { report: only, peers: new Map(only.peers.map((p) => [p.peer, p])) })
    }
    index.byWorker.set(worker, kept)
  }
  return index
}

/** Compare every pair of named workers in every period both reported; see the file comment. */
export function crossCheck(
  reports: readonly UsageReport[],
  tolerance: CrossCheckTolerance = DEFAULT_CROSS_CHECK_TOLERANCE,
): CrossCheck {
  checkTolerance(tolerance)
  const index = indexReports(reports)
  const findings: CrossCheckFinding[] = index.equivocations.map((e) => ({
    kind: 'equivocation',
    start: e.start,
    worker: e.worker,
    versions: e.reports.length,
  }))
  let pairsChecked = 0
  for (const [from, to] of directedPairs(index)) {
    pairsChecked++
    const mismatch = compareFlow(from, to, tolerance)
    if (mismatch !== undefined) findings.push(mismatch)
  }
  findings.sort(findingOrder)
  const mismatches = findings.length - index.equivocations.length
  return {
    findings,
    summary: {
      reports: index.reports,
      duplicates: index.duplicates,
      pairsChecked,
      withinTolerance: pairsChecked - mismatches,
      mismatches,
      equivocations: index.equivocations.length,
      flagged: findings.length,
    },
  }
}

/** The largest difference between two figures of one flow that is within tolerance. */
export function toleranceLimit(a: number, b: number, tolerance: CrossCheckTolerance): number {
  return Math.max(tolerance.relative * Math.max(a, b), tolerance.bytes)
}

/** Throws ERR_INVALID_ARGUMENT unless relative is in 0..1 and bytes a whole number >= 0. */
export function checkTolerance(tolerance: CrossCheckTolerance): void {
  const { relative, bytes } = tolerance
  if (!(Number.isFinite(relative) && relative >= 0 && relative <= 1)) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `tolerance.relative must be within 0..1, got ${relative}`)
  }
  if (!(Number.isSafeInteger(bytes) && bytes >= 0)) {
    throw new PRouterError(
      'ERR_INVALID_ARGUMENT',
      `tolerance.bytes must be a whole number >= 0, got ${bytes}`,
    )
  }
}

/** Every (sender, receiver) report pair of one period where at least one names the other; each once. */
function directedPairs(index: ReportIndex): Array<[IndexedReport, IndexedReport]> {
  const seen = new Set<string>()
  const out: Array<[IndexedReport, IndexedReport]> = []
  for (const [worker, byStart] of index.byWorker) {
    for (const [start, mine] of byStart) {
      for (const peer of mine.peers.keys()) {
        const theirs = isNamedPeer(peer) ? index.byWorker.get(peer)?.get(start) : undefined
        const pair = worker < peer ? `${worker}${peer}${start}` : `${peer}${worker}${start}`
        if (theirs === undefined || seen.has(pair)) continue
        seen.add(pair)
        out.push([mine, theirs], [theirs, mine])
      }
    }
  }
  return out
}

function compareFlow(
  from: IndexedReport,
  to: IndexedReport,
  tolerance: CrossCheckTolerance,
): MismatchFinding | undefined {
  const sender = from.report.workerKey
  const receiver = to.report.workerKey
  const out = from.peers.get(receiver)
  const into = to.peers.get(sender)
  const sent = out?.bytesOut ?? 0
  const received = into?.bytesIn ?? 0
  const difference = Math.abs(sent - received)
  const limit = toleranceLimit(sent, received, tolerance)
  if (difference <= limit) return undefined
  const unnamedBy = out === undefined ? sender : into === undefined ? receiver : undefined
  const { start, end } = from.report
  return {
    kind: 'mismatch',
    start,
    end,
    from: sender,
    to: receiver,
    sent,
    received,
    difference,
    limit,
    ...(unnamedBy === undefined ? {} : { unnamedBy }),
  }
}

/**
 * Period groups (sorted by start) cut into clusters of overlapping periods: a group joins the cluster before
 * it when it starts before the latest end seen in that cluster.
 */
function overlapping<V extends Map<string, UsageReport>>(
  groups: Array<[number, V]>,
): Array<Array<[number, V]>> {
  const clusters: Array<Array<[number, V]>> = []
  let end = -Infinity
  for (const group of groups) {
    const groupEnd = Math.max(...[...group[1].values()].map((r) => r.end))
    const last = clusters.at(-1)
    if (last !== undefined && group[0] < end) {
      last.push(group)
      end = Math.max(end, groupEnd)
    } else {
      clusters.push([group])
      end = groupEnd
    }
  }
  return clusters
}

function findingOrder(a: CrossCheckFinding, b: CrossCheckFinding): number {
  if (a.start !== b.start) return a.start - b.start
  const ka = a.kind === 'mismatch' ? `m${a.from}${a.to}` : `e${a.worker}`
  const kb = b.kind === 'mismatch' ? `m${b.from}${b.to}` : `e${b.worker}`
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

function byKey<K extends string | number>(a: [K, unknown], b: [K, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0
}

function getOrSet<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  const held = map.get(key)
  if (held !== undefined) return held
  const made = make()
  map.set(key, made)
  return made
}
