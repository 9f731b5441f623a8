/**
 * Which i2pd builds a benchmark runs, in turn, in one run: `PROUTER_I2PD` (one binary, as the daemon takes
 * it), else `BENCH_I2PD`, a comma-separated list of Debian releases (`trixie`: 2.56, `forky` and `sid`: 2.59),
 * each from the cache or provisioned (private apt state, nothing installed system-wide). Default: trixie and
 * forky (the old default and the new), so the figures of the two versions come from the same machine at the
 * same time.
 */
import type { Logger } from '../src/logger.js'
import { defaultCacheDir, resolveI2pd, type I2pdBinary } from '../src/router/binary.js'
import { I2PD_RELEASES, type I2pdRelease } from '../src/router/releases.js'

export async function benchBinaries(logger: Logger): Promise<I2pdBinary[]> {
  const cacheDir = process.env.PROUTER_CACHE_DIR ?? defaultCacheDir()
  const explicitPath = process.env.PROUTER_I2PD
  if (explicitPath !== undefined) return [await resolveI2pd({ cacheDir, explicitPath }, { logger })]
  const out: I2pdBinary[] = []
  for (const release of releases()) out.push(await resolveI2pd({ cacheDir, release }, { logger }))
  return out
}

function releases(): I2pdRelease[] {
  const names = (process.env.BENCH_I2PD ?? 'trixie,forky').split(',').map((s) => s.trim())
  for (const name of names) {
    if (!(I2PD_RELEASES as readonly string[]).includes(name)) {
      throw new Error(`BENCH_I2PD: ${name} is not one of ${I2PD_RELEASES.join(', ')}`)
    }
  }
  return names as I2pdRelease[]
}
