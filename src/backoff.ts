/**
 * Capped exponential backoff: min, 2·min, 4·min … max. The one formula every retry loop of the project uses
 * (router restarts, the SAM session, stream connects, publishing, warm paths).
 */
export function backoffDelay(attempt: number, min: number, max: number): number {
  return Math.min(max, min * 2 ** Math.max(0, attempt))
}
