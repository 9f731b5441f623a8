import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
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
  assert.equal(binary.certsDir, undefined, 'not a provisioned folder: no certificates are assumed')
})

test('an explicit path that is not i2pd fails clearly', async () => {
  await assert.rejects(
    resolveI2pd({ cacheDir: '/nonexistent', explicitPath: '/bin/true' }, { logger }),
    (err: unknown) => isPRouterError(err, 'ERR_ROUTER_NOT_FOUND'),
  )
})

test('the cache folder follows XDG', () => {
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x' }), '/x/prouter')
  assert.equal(defaultCacheDir({ HOME: '/h' }), '/h/.cache/prouter')
})

test('with no HOME and no passwd entry the cache folder falls back, or fails clearly when asked for', () => {
  const noPasswd = (): string => {
    throw new Error('ENOENT: no such file or directory, uv_os_get_passwd')
  }
  assert.equal(defaultCacheDir({}, { home: () => '/p', uid: 1000 }), '/p/.cache/prouter')
  assert.equal(defaultCacheDir({}, { home: noPasswd, uid: 0 }), '/var/cache/prouter')
  assert.throws(
    () => defaultCacheDir({}, { home: noPasswd, uid: 61234 }),
    (err: unknown) => isPRouterError(err, 'ERR_INVALID_OPTION') && /PROUTER_CACHE_DIR/.test(String(err)),
  )
})

/** A provisioned folder as provision.ts leaves it: a stamp and a launcher (nothing is run but the launcher). */
async function fakeProvisioned(
  cacheDir: string,
  folder: string,
  suite: string,
  version: string,
): Promise<string> {
  const root = join(cacheDir, folder)
  await mkdir(root, { recursive: true })
  await writeFile(join(root, 'prouter-provisioned.json'), JSON.stringify({ version, arch: 'amd64', suite }))
  const launcher = join(root, 'i2pd')
  await writeFile(launcher, `#!/bin/sh\necho "i2pd version ${version} (0.9.68)"\n`)
  await chmod(launcher, 0o755)
  return root
}

/** A cache with trixie's, forky's and sid's i2pd, and a PATH with an i2pd >= 2.51 on it. */
async function releasesCache(t: {
  after: (fn: () => Promise<void>) => void
}): Promise<{ cache: string; bin: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-releases-'))
  t.after(() => rm(dir, { recursive: true }))
  const cache = join(dir, 'cache')
  await fakeProvisioned(cache, 'i2pd-trixie', 'trixie', '2.56.0')
  await fakeProvisioned(cache, 'i2pd-forky', 'forky', '2.59.0')
  await fakeProvisioned(cache, 'i2pd-sid', 'sid', '2.60.0')
  const bin = join(dir, 'bin')
  await mkdir(bin)
  await writeFile(join(bin, 'i2pd'), '#!/bin/sh\necho "i2pd version 2.58.0 (0.9.67)"\n')
  await chmod(join(bin, 'i2pd'), 0o755)
  return { cache, bin }
}

test('a chosen release is taken from its own cache folder, and PATH is not searched', async (t) => {
  const { cache, bin } = await releasesCache(t)
  await withPath(`${bin}:/usr/bin:/bin`, async () => {
    const sid = await resolveI2pd({ cacheDir: cache, release: 'sid', provision: false }, { logger })
    assert.deepEqual([sid.version, sid.source], ['2.60.0', 'cache'])
    assert.ok(sid.args.includes(join(cache, 'i2pd-sid', 'usr', 'bin', 'i2pd')), sid.args.join(' '))
    assert.equal(sid.launcher, join(cache, 'i2pd-sid', 'i2pd'))
    const trixie = await resolveI2pd({ cacheDir: cache, release: 'trixie', provision: false }, { logger })
    assert.deepEqual([trixie.version, trixie.source], ['2.56.0', 'cache'])
    // No release: as before, an i2pd on PATH first.
    const unset = await resolveI2pd({ cacheDir: cache, provision: false }, { logger })
    assert.deepEqual([unset.version, unset.source], ['2.58.0', 'path'])
  })
})

test('no release and nothing on PATH: the default release (forky), never sid or trixie', async (t) => {
  const { cache } = await releasesCache(t)
  await withPath('/nonexistent', async () => {
    const binary = await resolveI2pd({ cacheDir: cache, provision: false }, { logger })
    assert.equal(binary.version, '2.59.0')
    assert.ok(binary.args.includes(join(cache, 'i2pd-forky', 'usr', 'bin', 'i2pd')))
  })
})

test('a chosen release missing from the cache is not replaced by another one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-releases-'))
  t.after(() => rm(dir, { recursive: true }))
  await fakeProvisioned(dir, 'i2pd-trixie', 'trixie', '2.56.0')
  // A folder named for sid whose stamp says trixie is not sid's i2pd either.
  await fakeProvisioned(dir, 'i2pd-sid', 'trixie', '2.56.0')
  await assert.rejects(
    resolveI2pd({ cacheDir: dir, release: 'sid', provision: false }, { logger }),
    (err: unknown) => isPRouterError(err, 'ERR_ROUTER_NOT_FOUND') && err.message.includes('--release sid'),
  )
})

test("a provisioned folder's launcher works as an explicit binary and brings its certificates", async (t) => {
  const { cache } = await releasesCache(t)
  const launcher = join(cache, 'i2pd-sid', 'i2pd')
  const binary = await resolveI2pd({ cacheDir: cache, explicitPath: launcher, provision: false }, { logger })
  assert.deepEqual([binary.command, binary.version, binary.source], [launcher, '2.60.0', 'explicit'])
  assert.equal(binary.certsDir, join(cache, 'i2pd-sid', 'usr', 'share', 'i2pd', 'certificates'))
})
