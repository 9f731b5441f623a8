/**
 * One bulk figure: `size` bytes of the payload split into `n` parts ([offset, length], the last one takes the
 * remainder), moved at once by `move(i, offset, length)`; the rate is `size` over the wall time until the last
 * part is done. A failure is kept in the figure (the run goes on), after one retry.
 */
import { MIB } from '../../src/constants.js'

export interface Figure {
  /** MiB/s over the whole transfer; NaN when it failed. */
  mibps: number
  seconds: number
  error?: string
}

export type Move = (part: number, offset: number, length: number) => Promise<unknown>

export function parts(size: number, n: number): Array<[number, number]> {
  const each = Math.floor(size / n)
  return Array.from({ length: n }, (_, i) => [i * each, i === n - 1 ? size - i * each : each])
}

export async function timeParts(size: number, n: number, move: Move): Promise<Figure> {
  const t0 = performance.now()
  await Promise.all(parts(size, n).map(([offset, length], i) => move(i, offset, length)))
  const seconds = (performance.now() - t0) / 1000
  return { mibps: size / MIB / seconds, seconds }
}

/** `run()` once more after `recover()` if it throws; a second failure becomes the figure's error. */
export async function withRetry(
  what: string,
  run: () => Promise<Figure>,
  recover: () => Promise<void>,
): Promise<Figure> {
  try {
    return await run()
  } catch (err) {
    process.stderr.write(`  ${what} failed (${(err as Error).message}); once more\n`)
    try {
      await recover()
      return await run()
    } catch (again) {
      process.stderr.write(`  ${what} failed again (${(again as Error).message})\n`)
      return { mibps: NaN, seconds: NaN, error: (again as Error).message }
    }
  }
}
