/**
 * loadDaemonConfig for bootstrapping from the registry: router.reseed.fromRegistry (managed),
 * router.publishRouterInfo (managed), router.routerInfoFile (attach) and PROUTER_RESEED_FROM_REGISTRY.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadDaemonConfig } from '../../../src/daemon/config.js'
import { dataDir, invalid } from '../../helpers/daemon-config.js'
import type { DaemonConfigInput } from '../../../src/daemon/config.js'

const SAM = { host: '127.0.0.1', port: 7656 }

const managed = (dir: string, router: Record<string, unknown>): DaemonConfigInput => ({
  dataDir: dir,
  router: { mode: 'managed', ...router },
})

test('fromRegistry is off and publishRouterInfo on by default; both can be switched', async (t) => {
  const dir = await dataDir(t)
  const c = await loadDaemonConfig({ flags: { dataDir: dir } })
  assert.ok(c.router.mode === 'managed')
  assert.equal(c.router.reseed.fromRegistry, false)
  assert.equal(c.router.publishRouterInfo, true)
  const on = await loadDaemonConfig({
    flags: managed(dir, { netId: 77, reseed: { fromRegistry: true }, publishRouterInfo: false }),
  })
  assert.ok(on.router.mode === 'managed')
  assert.deepEqual([on.router.reseed.fromRegistry, on.router.publishRouterInfo], [true, false])
  assert.deepEqual([on.router.reseed.zipFile, on.router.reseed.su3File], [undefined, undefined])
})

test('fromRegistry with a zipFile or an su3File is refused, naming router.reseed.fromRegistry', async (t) => {
  const dir = await dataDir(t)
  for (const source of [
    { zipFile: 'seed.zip' },
    { su3File: 'seed.su3' },
    { su3File: 'https://r.example/i2pseeds.su3' },
  ]) {
    await assert.rejects(
      loadDaemonConfig({ flags: managed(dir, { reseed: { fromRegistry: true, ...source } }) }),
      invalid('router.reseed.fromRegistry', 'builds the bundle itself', 'zipFile or su3File'),
      JSON.stringify(source),
    )
  }
})

test('the conflict is found across layers: a zipFile in the file, fromRegistry from the environment', async (t) => {
  const dir = await dataDir(t)
  const file = join(dir, 'prouter.json')
  await writeFile(file, JSON.stringify(managed(dir, { reseed: { zipFile: 'seed.zip' } })))
  await assert.rejects(
    loadDaemonConfig({ file, env: { PROUTER_RESEED_FROM_REGISTRY: 'true' } }),
    invalid('router.reseed.fromRegistry'),
  )
})

test('PROUTER_RESEED_FROM_REGISTRY: true/1 and false/0; a flag wins; anything else names the variable', async (t) => {
  const dir = await dataDir(t)
  const fromRegistry = async (env: Record<string, string>, flags: DaemonConfigInput = { dataDir: dir }) => {
    const c = await loadDaemonConfig({ env, flags })
    assert.ok(c.router.mode === 'managed')
    return c.router.reseed.fromRegistry
  }
  assert.equal(await fromRegistry({ PROUTER_RESEED_FROM_REGISTRY: 'true' }), true)
  assert.equal(await fromRegistry({ PROUTER_RESEED_FROM_REGISTRY: '1' }), true)
  assert.equal(await fromRegistry({ PROUTER_RESEED_FROM_REGISTRY: '0' }), false)
  assert.equal(await fromRegistry({ PROUTER_RESEED_FROM_REGISTRY: '' }), false, 'empty counts as unset')
  const flag = managed(dir, { reseed: { fromRegistry: false } })
  assert.equal(await fromRegistry({ PROUTER_RESEED_FROM_REGISTRY: 'true' }, flag), false)
  await assert.rejects(
    loadDaemonConfig({ env: { PROUTER_RESEED_FROM_REGISTRY: 'yes' }, flags: { dataDir: dir } }),
    invalid('PROUTER_RESEED_FROM_REGISTRY', 'true or false'),
  )
})

test('attach: routerInfoFile is resolved to an absolute path, and left unset when not given', async (t) => {
  const dir = await dataDir(t)
  const relative = await loadDaemonConfig({
    flags: { dataDir: dir, router: { mode: 'attach', sam: SAM, routerInfoFile: 'i2pd/router.info' } },
  })
  assert.ok(relative.router.mode === 'attach')
  assert.equal(relative.router.routerInfoFile, join(process.cwd(), 'i2pd/router.info'))
  const absolute = await loadDaemonConfig({
    flags: {
      dataDir: dir,
      router: { mode: 'attach', sam: SAM, routerInfoFile: '/var/lib/i2pd/router.info' },
    },
  })
  assert.ok(absolute.router.mode === 'attach')
  assert.equal(absolute.router.routerInfoFile, '/var/lib/i2pd/router.info')
  const none = await loadDaemonConfig({ flags: { dataDir: dir, router: { mode: 'attach', sam: SAM } } })
  assert.ok(none.router.mode === 'attach')
  assert.equal(none.router.routerInfoFile, undefined)
})

test("each mode's options are unknown in the other", async (t) => {
  const dir = await dataDir(t)
  await assert.rejects(
    loadDaemonConfig({ flags: managed(dir, { routerInfoFile: 'router.info' }) }),
    invalid('router.routerInfoFile', 'is not a known option'),
  )
  const attach = { mode: 'attach', sam: SAM }
  /** Options of the other mode: the type refuses them too, the loader is what is tested here. */
  const asInput = (input: unknown) => input as DaemonConfigInput
  await assert.rejects(
    loadDaemonConfig({ flags: asInput({ dataDir: dir, router: { ...attach, publishRouterInfo: true } }) }),
    invalid('router.publishRouterInfo', 'is not a known option'),
  )
  await assert.rejects(
    loadDaemonConfig({
      flags: asInput({ dataDir: dir, router: { ...attach, reseed: { fromRegistry: true } } }),
    }),
    invalid('router.reseed', 'is not a known option'),
  )
  await assert.rejects(
    loadDaemonConfig({ flags: managed(dir, { reseed: { fromRegistry: 'yes' } }) }),
    invalid('router.reseed.fromRegistry', 'true or false'),
  )
})
