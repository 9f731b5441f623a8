/**
 * A latency histogram with fixed buckets (upper bounds in ms, as Prometheus `le` buckets: each count holds the
 * observations at or below its bound, cumulative only when exported). Fixed bounds keep every peer's
 * histogram the same size and comparable.
 */

/** Upper bounds in ms: a warm request over I2P takes ~20–250 ms, a cold one seconds. */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000,
]

export interface Histogram {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts: number[]
  sum: number
  count: number
}

export function createHistogram(): Histogram {
  return { counts: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0), sum: 0, count: 0 }
}

export function observe(h: Histogram, ms: number): void {
  let i = LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound)
  if (i < 0) i = LATENCY_BUCKETS_MS.length
  h.counts[i] = (h.counts[i] ?? 0) + 1
  h.sum += ms
  h.count++
}

/** Cumulative counts per bound, then +Inf: what Prometheus exposes as `_bucket{le=…}`. */
export function cumulative(h: Histogram): Array<{ le: number; count: number }> {
  let running = 0
  return h.counts.map((c, i) => {
    running += c
    return { le: LATENCY_BUCKETS_MS[i] ?? Infinity, count: running }
  })
}
