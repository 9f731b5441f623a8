/** Gaps of a period: clipped to it, sorted, never overlapping (a later gap starts where an earlier one ends). */
import type { UsageGap } from './report.js'

export function addGap(gaps: UsageGap[], gap: UsageGap, period: { start: number; end: number }): void {
  const prev = gaps.at(-1)
  const start = Math.max(gap.start, period.start, prev?.end ?? period.start)
  const end = Math.min(gap.end, period.end)
  if (end <= start) return
  if (prev !== undefined && prev.cause === gap.cause && prev.end === start) prev.end = end
  else gaps.push({ start, end, cause: gap.cause })
}

/** Milliseconds of the period not in a gap. */
export function countedMs(period: { start: number; end: number }, gaps: readonly UsageGap[]): number {
  return gaps.reduce((ms, g) => ms - (g.end - g.start), period.end - period.start)
}
