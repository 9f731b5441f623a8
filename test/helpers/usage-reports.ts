/**
 * Usage reports for the metering tests: a builder with defaults, the dev keys, and the worked example of
 * docs/reports.md (valued by hand in test/unit/metering/valuation.test.ts).
 */
import { MINUTE } from '../../src/constants.js'
import { workerKeyFromSuri, type WorkerKeyPair } from '../../src/identity/index.js'
import type { PeerUsage, UsageGap, UsageReport } from '../../src/metering/report.js'

/** 2026-12-03T10:00:00Z, and the report period. */
export const T0 = Date.UTC(2026, 11, 3, 10)
export const PERIOD = 10 * MINUTE

export interface DevKeys {
  alice: WorkerKeyPair
  bob: WorkerKeyPair
  charlie: WorkerKeyPair
}

export async function devKeys(): Promise<DevKeys> {
  const [alice, bob, charlie] = await Promise.all(
    ['//Alice', '//Bob', '//Charlie'].map((suri) => workerKeyFromSuri(suri)),
  )
  if (alice === undefined || bob === undefined || charlie === undefined) throw new Error('no dev keys')
  return { alice, bob, charlie }
}

/** The dev keys' worker keys (`0x…`), by name. */
export function workerKeysOf(keys: DevKeys): { alice: string; bob: string; charlie: string } {
  return { alice: keys.alice.workerKey, bob: keys.bob.workerKey, charlie: keys.charlie.workerKey }
}

/** The dev keys' worker keys, by name. */
export async function devWorkerKeys(): Promise<{ alice: string; bob: string; charlie: string }> {
  return workerKeysOf(await devKeys())
}

export interface ReportSpec {
  /** Period index: start = T0 + i × PERIOD. */
  period: number
  /** transit.bytes; null: no transit figure. */
  transit: number | null
  /** router.bytesSent; null: no router totals. */
  routerSent: number | null
  /** [peer, bytesIn, bytesOut]. */
  peers?: Array<[string, number, number]>
  gaps?: UsageGap[]
}

/** A report of `workerKey` per `spec`, peers sorted, request counts and the rest filled in. */
export function usageReport(workerKey: string, spec: ReportSpec): UsageReport {
  const start = T0 + spec.period * PERIOD
  const peers: PeerUsage[] = (spec.peers ?? [])
    .map(([peer, bytesIn, bytesOut]) => ({
      peer,
      bytesIn,
      bytesOut,
      requestsIn: 1,
      requestsOut: 1,
      errors: 0,
    }))
    .sort((a, b) => (a.peer < b.peer ? -1 : 1))
  return {
    version: 1,
    workerKey,
    start,
    end: start + PERIOD,
    transit: spec.transit === null ? null : { bytes: spec.transit, tunnelSeconds: 600, tunnelsMax: 3 },
    router: spec.routerSent === null ? null : { bytesSent: spec.routerSent, bytesReceived: 1_000 },
    peers,
    restarts: { daemon: 0, router: 0 },
    gaps: spec.gaps ?? [],
    createdAt: start + PERIOD + 1_000,
  }
}

/**
 * The worked example: Alice, Bob and Charlie over two periods P1 = 10:00–10:10 and P2 = 10:10–10:20 of
 * 2026-12-03 (Charlie reports P1 only), plus one report of Alice for 11:00–11:10, outside the hour 10–11.
 */
export function exampleReports(k: { alice: string; bob: string; charlie: string }): UsageReport[] {
  const gap: UsageGap = { start: T0, end: T0 + MINUTE, cause: 'daemon-down' }
  return [
    usageReport(k.alice, {
      period: 0,
      transit: 1_000_000,
      routerSent: 5_000_000,
      gaps: [gap],
      peers: [
        [k.bob, 100_000, 300_000],
        [k.charlie, 200_000, 50_000],
        ['anonymous', 1_000_000, 1_000_000],
      ],
    }),
    usageReport(k.alice, {
      period: 1,
      transit: 2_000_000,
      routerSent: null,
      peers: [
        [k.bob, 0, 200_000],
        [k.charlie, 0, 70_000],
      ],
    }),
    usageReport(k.bob, {
      period: 0,
      transit: 4_000_000,
      routerSent: 1_500_000,
      peers: [
        [k.alice, 290_000, 100_000],
        [k.charlie, 0, 10_000],
      ],
    }),
    usageReport(k.bob, { period: 1, transit: null, routerSent: 800_000, peers: [[k.alice, 210_000, 0]] }),
    usageReport(k.charlie, {
      period: 0,
      transit: 500_000,
      routerSent: 600_000,
      peers: [[k.alice, 50_000, 900_000]],
    }),
    usageReport(k.alice, { period: 6, transit: 9_000_000, routerSent: 9_000_000 }),
  ]
}
