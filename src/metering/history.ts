/**
 * The last hour of traffic, one point per sample step, for the status page's plots: bytes per step with each
 * of the busiest peers, with all others together, forwarded for others (transit), and the router's totals.
 * It is fed cumulative counters and keeps differences, so a sample that comes late costs nothing but its
 * point's width; a counter that went down (a restart) counts from zero.
 */
import { DEFAULT_METERING_SAMPLE_INTERVAL, METERING_HISTORY_SPAN } from '../constants.js'
import { OTHER_PEERS } from './report.js'

/** Cumulative counters at one instant. */
export interface TrafficSample {
  at: number
  /** Per peer: bytes read and written on its streams so far. */
  peers: ReadonlyMap<string, { bytesIn: number; bytesOut: number }>
  /** Router-wide totals so far; undefined when the router did not tell. */
  transitBytes: number | undefined
  routerSent: number | undefined
  routerReceived: number | undefined
}

/** What /v1/metering/history answers: arrays aligned with `times` (each point covers the step ending then). */
export interface TrafficHistory {
  step: number
  span: number
  now: number
  times: number[]
  transit: Array<number | null>
  routerSent: Array<number | null>
  routerReceived: Array<number | null>
  /** The busiest peers over the span (at most `maxSeries`), then `other` for the rest; bytes per step. */
  peers: Array<{ peer: string; bytesIn: number[]; bytesOut: number[] }>
}

export interface TrafficHistoryInit {
  span?: number
  step?: number
  /** Peers plotted apart. */
  maxSeries?: number
}

export interface TrafficHistoryRecorder {
  record(sample: TrafficSample): void
  snapshot(now?: number): TrafficHistory
}

interface Point {
  at: number
  transit: number | null
  sent: number | null
  received: number | null
  peers: Map<string, [number, number]>
}

export function createTrafficHistory(init: TrafficHistoryInit = {}): TrafficHistoryRecorder {
  const span = init.span ?? METERING_HISTORY_SPAN
  const step = init.step ?? DEFAULT_METERING_SAMPLE_INTERVAL
  const maxSeries = init.maxSeries ?? 8
  const points: Point[] = []
  let last: TrafficSample | undefined
  return {
    record(sample) {
      if (last !== undefined && sample.at > last.at) points.push(pointBetween(last, sample))
      last = sample
      while (points.length > 0 && (points[0] as Point).at <= sample.at - span) points.shift()
    },
    snapshot(now = Date.now()) {
      return render(
        points.filter((p) => p.at > now - span),
        { step, span, now },
        maxSeries,
      )
    },
  }
}

function pointBetween(a: TrafficSample, b: TrafficSample): Point {
  const peers = new Map<string, [number, number]>()
  for (const [peer, now] of b.peers) {
    const before = a.peers.get(peer)
    const d: [number, number] = [grown(before?.bytesIn, now.bytesIn), grown(before?.bytesOut, now.bytesOut)]
    if (d[0] > 0 || d[1] > 0) peers.set(peer, d)
  }
  return {
    at: b.at,
    transit: delta(a.transitBytes, b.transitBytes),
    sent: delta(a.routerSent, b.routerSent),
    received: delta(a.routerReceived, b.routerReceived),
    peers,
  }
}

function delta(before: number | undefined, now: number | undefined): number | null {
  return now === undefined ? null : grown(before, now)
}

/** A counter that went down started again from zero. */
function grown(before: number | undefined, now: number): number {
  return before === undefined || now < before ? now : now - before
}

function render(points: Point[], head: { step: number; span: number; now: number }, maxSeries: number) {
  const busiest = busiestPeers(points, maxSeries)
  const series = new Map<string, { peer: string; bytesIn: number[]; bytesOut: number[] }>()
  for (const peer of [...busiest, OTHER_PEERS]) series.set(peer, { peer, bytesIn: [], bytesOut: [] })
  for (const p of points) {
    for (const s of series.values()) {
      s.bytesIn.push(0)
      s.bytesOut.push(0)
    }
    for (const [peer, [bytesIn, bytesOut]] of p.peers) {
      const s = series.get(busiest.includes(peer) ? peer : OTHER_PEERS) as {
        bytesIn: number[]
        bytesOut: number[]
      }
      s.bytesIn[s.bytesIn.length - 1] = (s.bytesIn.at(-1) ?? 0) + bytesIn
      s.bytesOut[s.bytesOut.length - 1] = (s.bytesOut.at(-1) ?? 0) + bytesOut
    }
  }
  const other = series.get(OTHER_PEERS)
  if (other !== undefined && other.bytesIn.every((b, i) => b === 0 && other.bytesOut[i] === 0)) {
    series.delete(OTHER_PEERS)
  }
  return {
    ...head,
    times: points.map((p) => p.at),
    transit: points.map((p) => p.transit),
    routerSent: points.map((p) => p.sent),
    routerReceived: points.map((p) => p.received),
    peers: [...series.values()],
  }
}

function busiestPeers(points: Point[], max: number): string[] {
  const totals = new Map<string, number>()
  for (const p of points) {
    for (const [peer, [i, o]] of p.peers) totals.set(peer, (totals.get(peer) ?? 0) + i + o)
  }
  totals.delete(OTHER_PEERS)
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, max)
    .map(([peer]) => peer)
}
