/**
 * The daemon's metering: per-peer counters fed at the stream boundary by the proxy, the router's counters read
 * every sample step, the open period's books (closed, signed, written and published at each period end), the
 * last hour for the status page, and /metrics. One sampler runs at a time: it flushes the streams' bytes,
 * reads the router, ticks the books and records a history point; it is due every `sampleInterval` and exactly
 * at each period end. The period's end is also cut on a timer of its own: the streams' bytes are flushed and the
 * counters copied at that moment, even while a slow sample (a router reading, a publication) holds up the next
 * one, and the period closes on that copy — so two workers' reports of a period agree on the bytes between them.
 * The books are saved at every sample and at stop, and only once they were loaded (`open()`, the last step of
 * the daemon's start): a start that fails never writes over the saved period.
 */
import { SECOND } from '../constants.js'
import { PRouterError } from '../errors.js'
import type { WorkerKeyPair } from '../identity/index.js'
import type { Logger } from '../logger.js'
import { createAccountant, type Accountant, type Counters } from '../metering/accountant.js'
import { createTrafficHistory, type TrafficHistoryRecorder } from '../metering/history.js'
import { createPeerMeter, type PeerMeter } from '../metering/peer-meter.js'
import { reportFiles, type ReportFiles } from '../metering/report-files.js'
import { createRouterMeter, type RouterMeter, type RouterReading } from '../metering/router-meter.js'
import { createStreamMeter, type StreamMeter } from '../metering/stream-meter.js'
import type { Registry } from '../registry/index.js'
import { signUsageReport } from '../registry/usage-reports.js'
import { payloadBytes } from '../sam/index.js'
import type { DaemonConfig } from './config-types.js'
import { createDaemonMetrics, type DaemonMetrics } from './metrics.js'
import type { RouterLink } from './router-link.js'

export interface MeteringInit {
  config: DaemonConfig['metering']
  dataDir: string
  worker: WorkerKeyPair
}

export interface MeteringComponents {
  logger: Logger
  registry: Registry
  router: RouterLink
  sessionUp: () => boolean
  streams: () => { in: number; out: number }
}

export interface MeteringStatus {
  period: { start: string; end: string }
  transitBytes: number | null
  peers: number
  reportsPublished: number
  reportsUnpublished: number
  /** 'ok', or why the router's counters could not be read. */
  routerCounters: string
  /** Whether the saved books were loaded (false until the daemon's start has got that far). */
  open: boolean
}

export interface Metering {
  readonly peers: PeerMeter
  readonly streams: StreamMeter
  /**
   * Load the saved books (or open a new period) and start sampling. Until then nothing is saved: a daemon
   * whose start fails earlier leaves the saved period as it was.
   */
  open(): Promise<void>
  /** If the books were opened: the last sample (the streams' last bytes), then the books are saved. */
  stop(): Promise<void>
  /** Run one sample now (tests; the status page's freshest point); nothing before the books are open. */
  sample(): Promise<void>
  history(): object
  reports(query: { from?: number; to?: number }): Promise<object>
  metrics(): Promise<{ contentType: string; body: string }>
  status(): MeteringStatus
}

export function createMetering(init: MeteringInit, components: MeteringComponents): Metering {
  return new DaemonMetering(init, components)
}

/** A router silent for this many steps leaves a `router-unreachable` gap when it answers again. */
const SILENT_STEPS = 3
/** At stop, the last router reading waits this long at most: a hung router must not hold up the final save. */
const FINAL_READ_WAIT = 2 * SECOND

function withinFinalWait<T>(reading: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new PRouterError('ERR_I2PCONTROL', `no router reading within ${FINAL_READ_WAIT} ms at stop`))
    }, FINAL_READ_WAIT)
  })
  reading.catch(() => undefined) // the reading may lose the race: its end is of no interest then
  return Promise.race([reading, late]).finally(() => {
    clearTimeout(timer)
  })
}

class DaemonMetering implements Metering {
  readonly peers: PeerMeter
  readonly streams: StreamMeter
  private router: RouterMeter = createRouterMeter()
  private readonly files: ReportFiles
  private readonly books: Accountant
  private readonly recorder: TrafficHistoryRecorder
  private readonly promMetrics: DaemonMetrics
  private readonly log: Logger
  private timer: NodeJS.Timeout | undefined
  private cutTimer: NodeJS.Timeout | undefined
  /** The counters as they were at the open period's end, until the sampler closes the period on them. */
  private cut: Counters | undefined
  private running: Promise<void> = Promise.resolve()
  private lastPublish = 0
  private lastReadingError: string | undefined
  private opened = false
  private stopped = false
  /** A reading succeeded since this daemon started. */
  private readSince = false

  constructor(
    private readonly init: MeteringInit,
    private readonly c: MeteringComponents,
  ) {
    this.log = c.logger.child({ component: 'metering' })
    this.peers = createPeerMeter({ maxPeers: init.config.maxPeers })
    this.streams = createStreamMeter({ peers: this.peers, bytes: payloadBytes })
    this.files = reportFiles(init.dataDir, init.worker.workerKey)
    this.books = createAccountant(
      { workerKey: init.worker.workerKey, period: init.config.period },
      {
        files: this.files,
        sign: (report) => signUsageReport(report, init.worker),
        publish: init.config.publishReports
          ? (signed) => c.registry.publishReport(signed).then(() => undefined)
          : undefined,
        logger: c.logger,
      },
    )
    this.recorder = createTrafficHistory({ step: init.config.sampleInterval })
    this.promMetrics = createDaemonMetrics({
      peers: this.peers,
      router: () => ({
        totals: this.routerTotals(),
        last: this.router.last,
      }),
      reports: () => ({ published: this.books.published, unpublished: this.books.unpublished.length }),
      sessionUp: c.sessionUp,
      streams: c.streams,
    })
  }

  async open(): Promise<void> {
    if (this.opened || this.stopped) return
    this.router = createRouterMeter(await this.books.open())
    this.opened = true
    this.lastPublish = Date.now()
    this.schedule()
    this.scheduleCut()
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    clearTimeout(this.timer)
    clearTimeout(this.cutTimer)
    await this.running
    if (!this.opened) return // never loaded: the saved books are not ours to overwrite
    await this.runSample() // the last bytes, then the books are saved
    await this.books.checkpoint(this.router.last, { publish: false }).catch((err: unknown) => {
      this.log.warn({ err }, 'metering checkpoint at stop failed')
    })
  }

  sample(): Promise<void> {
    this.running = this.running.then(() => this.runSample())
    return this.running
  }

  history(): object {
    return { workerKey: this.init.worker.workerKey, ...this.recorder.snapshot() }
  }

  async reports(query: { from?: number; to?: number }): Promise<object> {
    return {
      open: this.books.current(),
      reports: await this.files.listReports(query),
      unpublished: this.books.unpublished,
      folder: this.files.reportsDir,
    }
  }

  metrics(): Promise<{ contentType: string; body: string }> {
    this.streams.flush() // the bytes of open streams up to the scrape
    return this.promMetrics.render()
  }

  status(): MeteringStatus {
    const open = this.books.current()
    return {
      open: this.opened,
      period: { start: new Date(open.start).toISOString(), end: new Date(open.end).toISOString() },
      transitBytes: open.transit?.bytes ?? null,
      peers: open.peers.length,
      reportsPublished: this.books.published,
      reportsUnpublished: this.books.unpublished.length,
      routerCounters: this.lastReadingError === undefined ? 'ok' : this.lastReadingError,
    }
  }

  /** The next sample: one step on, or the period's end if sooner. */
  private schedule(): void {
    if (this.stopped) return
    const now = Date.now()
    const wait = Math.min(this.init.config.sampleInterval, Math.max(0, this.books.periodEnd - now))
    this.timer = setTimeout(() => {
      void this.sample().finally(() => {
        this.schedule()
      })
    }, wait)
    this.timer.unref()
  }

  /** At the period's end: copy the counters (the streams flushed), then sample (which closes the period on them). */
  private scheduleCut(end = this.books.periodEnd): void {
    if (this.stopped) return
    this.cutTimer = setTimeout(
      () => {
        if (this.cut === undefined || this.cut.at < end) this.cut = this.counters(end)
        void this.sample()
        this.scheduleCut(Math.max(end + this.init.config.period, this.books.periodEnd))
      },
      Math.max(0, end - Date.now()),
    )
    this.cutTimer.unref()
  }

  /** The counters now, copied; the router's as of its last reading. */
  private counters(at: number): Counters {
    this.streams.flush()
    return {
      at,
      peers: this.peers.all().map((p) => ({ ...p })),
      router: this.routerTotals(),
      tunnelsNow: undefined,
    }
  }

  /** The router's counters as of its last reading (none before the first). */
  private routerTotals(): Counters['router'] {
    return this.router.last === undefined ? undefined : this.router.totals()
  }

  /**
   * Flush, read, tick, and save the books every sample: a crash (kill -9) loses at most what was counted
   * since the last sample. Unpublished reports are retried every checkpointInterval.
   */
  private async runSample(): Promise<void> {
    if (!this.opened) return
    try {
      const cut = this.cut
      this.cut = undefined
      if (cut !== undefined && cut.at >= this.books.periodEnd) await this.books.tick(cut) // closes the period
      const now = this.counters(Date.now()) // the period is decided by when the bytes were flushed
      const reading = await this.read()
      await this.books.tick({
        ...now,
        router: this.routerTotals(),
        tunnelsNow: reading?.participatingTunnels,
      })
      const at = now.at
      this.recordHistory(at)
      const publish = !this.stopped && at - this.lastPublish >= this.init.config.checkpointInterval
      if (publish) this.lastPublish = at
      await this.books.checkpoint(this.router.last, { publish })
    } catch (err) {
      this.log.warn({ err }, 'metering sample failed')
    }
  }

  private async read(): Promise<RouterReading | undefined> {
    const before = this.router.last
    let reading: RouterReading
    try {
      reading = await (this.stopped ? withinFinalWait(this.c.router.traffic()) : this.c.router.traffic())
      this.lastReadingError = undefined
    } catch (err) {
      this.lastReadingError = err instanceof Error ? err.message : String(err)
      return undefined
    }
    // the first reading after a start follows the mark a previous run saved: that time is daemon-down already
    const silent =
      this.readSince &&
      reading.at - (before?.at ?? reading.at) > SILENT_STEPS * this.init.config.sampleInterval
    if (silent && before !== undefined) {
      this.books.gap({ start: before.at, end: reading.at, cause: 'router-unreachable' })
    }
    this.readSince = true
    const gap = this.router.update(reading)
    if (gap !== undefined) {
      this.books.gap(gap)
      this.log.info({ gap }, 'the router restarted: its counters start again')
    }
    return reading
  }

  private recordHistory(at: number): void {
    const totals = this.routerTotals()
    this.recorder.record({
      at,
      peers: new Map(this.peers.all().map((p) => [p.peer, { bytesIn: p.bytesIn, bytesOut: p.bytesOut }])),
      transitBytes: totals?.transitBytes,
      routerSent: totals?.sentBytes,
      routerReceived: totals?.receivedBytes,
    })
  }
}
