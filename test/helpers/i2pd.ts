/** What integration tests share: the i2pd to run (provisioned before the tests, see scripts/test-integration.sh). */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { I2pdBinary } from '../../src/router/binary.js'
import { defaultCacheDir, resolveI2pd } from '../../src/router/binary.js'
import { createLogger, silentLogger } from '../../src/logger.js'
import type { Logger } from '../../src/logger.js'
import { createRouter } from '../../src/router/router.js'
import type { ReadinessProbe, Router } from '../../src/router/router.js'
import { planRouters, routerConfig } from '../../src/testnet/plan.js'
import type { RouterRecord } from '../../src/testnet/index.js'
import { samHello } from '../../src/sam/index.js'

export function testLogger(): Logger {
  return process.env.PROUTER_TEST_LOG === undefined
    ? silentLogger()
    : createLogger({ level: process.env.PROUTER_TEST_LOG })
}

export function testBinary(): Promise<I2pdBinary> {
  return resolveI2pd(
    {
      cacheDir: process.env.PROUTER_CACHE_DIR ?? defaultCacheDir(),
      provision: false,
      explicitPath: process.env.PROUTER_I2PD,
    },
    { logger: testLogger() },
  )
}

/** A fresh temporary folder, removed after the test (or the suite, when given the suite's context). */
export async function tempDir(
  t: { after: (fn: () => Promise<void>) => void },
  prefix = 'prouter-',
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

export interface LoneRouterOptions {
  probes?: ReadinessProbe[]
  readyTimeout?: number
}

/**
 * One i2pd with no peers (enough for SAM, I2PControl and 0-hop tunnels), stopped after the test. Its
 * readiness probe is a SAM HELLO unless `probes` replaces it.
 */
export async function loneRouter(
  t: { after: (fn: () => Promise<void>) => void },
  options: LoneRouterOptions = {},
): Promise<{ router: Router; rec: RouterRecord }> {
  const dir = await tempDir(t, 'prouter-router-')
  const [rec] = await planRouters({ dir, routers: 1, floodfills: 1, unreachable: 0 })
  if (rec === undefined) throw new Error('no router planned')
  const binary = await testBinary()
  const config = routerConfig(rec, 77, { urls: [], verify: false, threshold: 0 }, binary.certsDir)
  const samProbe: ReadinessProbe = async (signal) => {
    await samHello(rec.sam, { signal })
  }
  const router = createRouter(
    {
      binary,
      config,
      restartBackoff: { min: 200, max: 1000 },
      ...(options.readyTimeout === undefined ? {} : { readyTimeout: options.readyTimeout }),
    },
    { logger: testLogger(), probes: options.probes ?? [samProbe] },
  )
  t.after(() => router.stop())
  return { router, rec }
}
