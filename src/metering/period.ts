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
