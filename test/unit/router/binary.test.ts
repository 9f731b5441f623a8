import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultCacheDir, resolveI2pd } from '../../../src/router/binary.js'
import { isPRouterError } from '../../../src/errors.js'
import { silentLogger } from '../../../src/logger.js'

const logger = silentLogger()

async function withPath<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH
  process.env.PATH = path
  try {
    return await fn()
  } finally {
    process.env.PATH = saved
  }
}

test('without apt the error names what to install', async (t) => {
  const empty = await mkdtemp(join(tmpdir(), 'prouter-nopath-'))
  t.after(() => rm(empty, { recursive: true }))
  await withPath(empty, () =>
    assert.rejects(
      resolveI2pd({ cacheDir: join(empty, 'cache') }, { logger }),
      (err: unknown) =>
        isPRouterError(err, 'ERR_ROUTER_PROVISION') && /install i2pd >= 2\.51/i.test(err.message),
    ),
  )
})

test('with provisioning off and nothing found: ERR_ROUTER_NOT_FOUND', async (t) => {
  const empty = await mkdtemp(join(tmpdir(), 'prouter-nopath-'))
  t.after(() => rm(empty, { recursive: true }))
  await withPath(empty, () =>
    assert.rejects(resolveI2pd({ cacheDir: empty, provision: false }, { logger }), (err: unknown) =>
      isPRouterError(err, 'ERR_ROUTER_NOT_FOUND'),
    ),
  )
})

test('an explicit binary wins over everything, and its version is reported', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-fake-i2pd-'))
  t.after(() => rm(dir, { recursive: true }))
  const fake = join(dir, 'i2pd')
  await writeFile(fake, '#!/bin/sh\necho "i2pd version 2.99.1 (0.9.70)"\n')
  await chmod(fake, 0o755)
  const binary = await resolveI2pd({ cacheDir: dir, explicitPath: fake, provision: false }, { logger })
  assert.deepEqual([binary.command, binary.version, binary.source], [fake, '2.99.1', 'explicit'])
})

test('an explicit path that is not i2pd fails clearly', async () => {
  await assert.rejects(
    resolveI2pd({ cacheDir: '/nonexistent', explicitPath: '/bin/true' }, { logger }),
    (err: unknown) => isPRouterError(err, 'ERR_ROUTER_NOT_FOUND'),
  )
})

test('the cache folder follows XDG', () => {
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x' }), '/x/prouter')
})
