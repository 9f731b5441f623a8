/** What integration tests share: the i2pd to run (provisioned before the tests, see scripts/test-integration.sh). */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { I2pdBinary } from '../../src/router/binary.js'
import { defaultCacheDir, resolveI2pd } from '../../src/router/binary.js'
import { createLogger, silentLogger } from '../../src/logger.js'
import type { Logger } from '../../src/logger.js'

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
