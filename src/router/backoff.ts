/** Capped exponential backoff: min, 2·min, 4·min … max. */
export function backoffDelay(attempt: number, min: number, max: number): number {
  return Math.min(max, min * 2 ** Math.max(0, attempt))
}
