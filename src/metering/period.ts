/** Report periods: fixed lengths aligned to the epoch, so every worker's periods share their edges. */

export interface Period {
  /** Inclusive, ms. */
  start: number
  /** Exclusive, ms. */
  end: number
}

/** The period of length `length` (ms) holding instant `at`. */
export function periodOf(at: number, length: number): Period {
  const start = Math.floor(at / length) * length
  return { start, end: start + length }
}

/** A span of ms, either side open when undefined. */
export interface Window {
  from?: number
  to?: number
}

/** Whether `period` has an instant in `window` ([from, to)). */
export function overlaps(period: Period, window: Window): boolean {
  return period.start < (window.to ?? Infinity) && period.end > (window.from ?? -Infinity)
}
