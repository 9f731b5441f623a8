/**
 * The open period's books. Every tick adds what the cumulative counters (peer-meter.ts, router-meter.ts) grew
 * by since the last tick; when the period's end has passed it is closed: its report is signed, written and
 * published, and the next period opens. The books are saved at each checkpoint and at stop, so a restart
 * resumes them. Nothing is written before `open()` has loaded what was saved (a failed load throws, and the file
 * stays as it was), so the books on disk are only ever replaced by books that continue them:
 *
 * - the daemon was down within the period: the period continues; the time from the last save to the restart
 *   is a `daemon-down` gap and `restarts.daemon` counts the start;
 * - the period ended while it was down: its report is closed at start with a gap to its end; the new period
 *   shows a gap from its start to the restart;
 * - the router kept running meanwhile (attach mode): its totals are counted from the last reading saved, so
 *   transit forwarded while the daemon was down is not lost; if it restarted, that is a `router-restart` gap.
 *
 * Reports the registry has not taken are retried at every checkpoint.
 */
import { isPRouterError, PRouterError, type ErrorCode } from '../errors.js'
import type { Logger } from '../logger.js'
import { addGap } from './gaps.js'
import { periodOf } from './period.js'
import type { PeerCounters } from './peer-meter.js'
import type { ReportFiles } from './report-files.js'
import {
  USAGE_REPORT_VERSION,
  type PeerUsage,
  type SignedUsageReport,
  type UsageGap,
  type UsageReport,
} from './report.js'
import type { RouterReading, RouterTotals } from './router-meter.js'

export interface AccountantInit {
  workerKey: string
  /** Period length, ms. */
  period: number
}

export interface AccountantComponents {
  files: ReportFiles
  sign: (report: UsageReport) => SignedUsageReport
  /** Undefined: reports are kept in the folder only. */
  publish: ((report: SignedUsageReport) => Promise<void>) | undefined
  logger: Logger
  now?: () => number
}

/** The cumulative counters at one instant. */
export interface Counters {
  at: number
  peers: readonly PeerCounters[]
  router: RouterTotals | undefined
  /** Participating tunnels now (undefined: no reading). */
  tunnelsNow: number | undefined
}

export interface Accountant {
  /**
   * Load the books, close a period that ended while the daemon was down, open the current one; resolves with
   * the router reading saved last (to resume the router's counters from).
   */
  open(): Promise<RouterReading | undefined>
  /** Add what grew since the last tick; close the period if its end has passed. */
  tick(counters: Counters): Promise<void>
  gap(gap: UsageGap): void
  /** Save the books (and the router reading to resume from); retry unpublished reports unless told not to. */
  checkpoint(routerMark: RouterReading | undefined, options?: { publish?: boolean }): Promise<void>
  /** The open period so far. */
  current(): UsageReport
  /** When the open period ends (ms). */
  readonly periodEnd: number
  readonly published: number
  readonly unpublished: readonly number[]
}

type PeerTotals = Omit<PeerUsage, 'peer'>

/** Refusals no retry can change: the report stays in the folder and is no longer pending. */
const REFUSED_FOR_GOOD: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_REPORT_CONFLICT',
  'ERR_REPORT_EXPIRED',
  'ERR_REPORT_MALFORMED',
  'ERR_REPORT_SIGNATURE',
])

export function createAccountant(init: AccountantInit, components: AccountantComponents): Accountant {
  return new Books(init, components)
}

class Books implements Accountant {
  private openReport: UsageReport
  private peers = new Map<string, PeerTotals>()
  private tunnelSeconds = 0
  private last: { peers: Map<string, PeerTotals>; router: RouterTotals | undefined } = {
    peers: new Map(),
    router: undefined,
  }
  private routerMark: RouterReading | undefined
  private pending = new Set<number>()
  private unsupported = false
  private loaded = false
  published = 0
  private readonly log: Logger
  private readonly now: () => number

  constructor(
    private readonly init: AccountantInit,
    private readonly c: AccountantComponents,
  ) {
    this.log = c.logger.child({ component: 'metering' })
    this.now = c.now ?? Date.now
    this.openReport = this.blank(periodOf(this.now(), init.period))
  }

  get periodEnd(): number {
    return this.openReport.end
  }

  get unpublished(): readonly number[] {
    return [...this.pending]
  }

  async open(): Promise<RouterReading | undefined> {
    const now = this.now()
    const saved = await this.c.files.loadCheckpoint().catch((err: unknown) => {
      // a file that does not parse was moved aside (kept): the period restarts with a gap; any other failure
      // (permissions, I/O) fails the start and leaves the file as it is
      if (!isPRouterError(err, 'ERR_METERING_STATE')) throw err
      this.log.warn({ err }, 'metering checkpoint unreadable: the period shows a gap')
      return undefined
    })
    for (const start of saved?.unpublished ?? []) this.pending.add(start)
    if (saved !== undefined && saved.open.end > now) {
      this.resume(saved.open)
      this.gap({ start: saved.open.createdAt, end: now, cause: 'daemon-down' })
    } else {
      if (saved !== undefined) await this.closeSaved(saved.open)
      this.openReport = this.blank(periodOf(now, this.init.period))
      this.gap({ start: this.openReport.start, end: now, cause: 'daemon-down' })
    }
    this.routerMark = saved?.routerMark
    this.loaded = true
    this.openReport.restarts.daemon++
    await this.checkpoint(this.routerMark, { publish: false }) // publishing waits for the first sample
    return this.routerMark
  }

  async tick(counters: Counters): Promise<void> {
    this.assertLoaded()
    this.add(counters)
    if (counters.at >= this.openReport.end) await this.close(counters.at)
  }

  gap(gap: UsageGap): void {
    addGap(this.openReport.gaps, gap, this.openReport)
  }

  async checkpoint(
    routerMark: RouterReading | undefined,
    options: { publish?: boolean } = {},
  ): Promise<void> {
    this.assertLoaded()
    this.routerMark = routerMark ?? this.routerMark
    const checkpoint = { open: this.current(), routerMark: this.routerMark, unpublished: [...this.pending] }
    await this.c.files.saveCheckpoint(checkpoint)
    if (options.publish !== false) await this.retryPublish()
  }

  current(): UsageReport {
    const peers = [...this.peers.entries()]
      .filter(([, p]) => p.bytesIn + p.bytesOut + p.requestsIn + p.requestsOut + p.errors > 0)
      .map(([peer, p]) => ({ peer, ...p }))
      .sort((a, b) => (a.peer < b.peer ? -1 : 1))
    const transit =
      this.openReport.transit === null
        ? null
        : { ...this.openReport.transit, tunnelSeconds: Math.round(this.tunnelSeconds) }
    return {
      ...this.openReport,
      transit,
      peers,
      gaps: this.openReport.gaps.map((g) => ({ ...g })),
      createdAt: this.now(),
    }
  }

  private add(counters: Counters): void {
    const peers = new Map<string, PeerTotals>()
    for (const p of counters.peers) {
      const now = totalsOf(p)
      peers.set(p.peer, now)
      const before = this.last.peers.get(p.peer)
      const row = this.peers.get(p.peer) ?? zero()
      for (const k of Object.keys(row) as Array<keyof PeerTotals>) row[k] += now[k] - (before?.[k] ?? 0)
      this.peers.set(p.peer, row)
    }
    this.addRouter(counters)
    this.last = { peers, router: counters.router }
  }

  private addRouter(counters: Counters): void {
    const now = counters.router
    if (now === undefined) return
    const before = this.last.router
    const grown = (k: 'sentBytes' | 'receivedBytes' | 'tunnelSeconds'): number => now[k] - (before?.[k] ?? 0)
    const router = this.openReport.router ?? { bytesSent: 0, bytesReceived: 0 }
    router.bytesSent += grown('sentBytes')
    router.bytesReceived += grown('receivedBytes')
    this.openReport.router = router
    this.openReport.restarts.router += now.restarts - (before?.restarts ?? 0)
    if (now.transitBytes === undefined) return
    const transit = this.openReport.transit ?? { bytes: 0, tunnelSeconds: 0, tunnelsMax: 0 }
    transit.bytes += now.transitBytes - (before?.transitBytes ?? 0)
    transit.tunnelsMax = Math.max(transit.tunnelsMax, counters.tunnelsNow ?? 0)
    this.tunnelSeconds += grown('tunnelSeconds')
    this.openReport.transit = transit
  }

  /** Sign, write and publish the open period's report, and open the period holding `at`. */
  private async close(at: number): Promise<void> {
    const report = { ...this.current(), createdAt: at }
    this.openReport = this.blank(periodOf(at, this.init.period))
    this.peers = new Map()
    this.tunnelSeconds = 0
    await this.finish(report)
  }

  private async closeSaved(saved: UsageReport): Promise<void> {
    const report = { ...saved, gaps: [...saved.gaps] }
    addGap(report.gaps, { start: saved.createdAt, end: saved.end, cause: 'daemon-down' }, saved)
    await this.finish({ ...report, createdAt: this.now() }, { publish: false })
  }

  private async finish(report: UsageReport, options: { publish?: boolean } = {}): Promise<void> {
    const signed = this.c.sign(report)
    const file = await this.c.files.writeReport(signed)
    this.log.info(
      {
        start: new Date(report.start).toISOString(),
        file,
        peers: report.peers.length,
        transit: report.transit?.bytes,
      },
      'usage report written',
    )
    if (this.c.publish === undefined || this.unsupported) return
    this.pending.add(report.start)
    if (options.publish !== false) await this.retryPublish()
  }

  private async retryPublish(): Promise<void> {
    const publish = this.c.publish
    if (this.unsupported || publish === undefined) return
    for (const start of [...this.pending].sort((a, b) => a - b)) {
      const signed = await this.c.files.readReport(start).catch(() => undefined)
      try {
        if (signed !== undefined) await publish(signed)
        this.pending.delete(start)
        if (signed !== undefined) this.published++
      } catch (err) {
        if (isPRouterError(err, 'ERR_REGISTRY_UNSUPPORTED')) {
          this.unsupported = true
          this.pending.clear()
          this.log.info('the registry keeps no usage reports: they stay in the reports folder')
          return
        }
        if (isPRouterError(err) && REFUSED_FOR_GOOD.has(err.code)) {
          this.pending.delete(start) // retrying cannot help, and it would hold back every later report
          this.log.error({ err, start }, 'the registry refuses this usage report for good')
          continue
        }
        this.log.warn({ err, start }, 'usage report not published yet; retrying at the next checkpoint')
        return
      }
    }
  }

  /** Books that were never loaded must not replace the saved ones (defect: a failed start wiped the period). */
  private assertLoaded(): void {
    if (!this.loaded) {
      throw new PRouterError(
        'ERR_INTERNAL',
        'the metering books were not loaded: not writing over the saved period',
      )
    }
  }

  private resume(saved: UsageReport): void {
    this.openReport = { ...saved, gaps: [...saved.gaps] }
    this.peers = new Map(saved.peers.map(({ peer, ...p }) => [peer, p]))
    this.tunnelSeconds = saved.transit?.tunnelSeconds ?? 0
  }

  private blank(period: { start: number; end: number }): UsageReport {
    return {
      version: USAGE_REPORT_VERSION,
      workerKey: this.init.workerKey,
      start: period.start,
      end: period.end,
      transit: null,
      router: null,
      peers: [],
      restarts: { daemon: 0, router: 0 },
      gaps: [],
      createdAt: period.start,
    }
  }
}

function totalsOf(p: PeerCounters): PeerTotals {
  return {
    bytesIn: p.bytesIn,
    bytesOut: p.bytesOut,
    requestsIn: p.requestsIn,
    requestsOut: p.requestsOut,
    errors: p.errorsIn + p.errorsOut,
  }
}

function zero(): PeerTotals {
  return { bytesIn: 0, bytesOut: 0, requestsIn: 0, requestsOut: 0, errors: 0 }
}
