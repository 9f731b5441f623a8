/**
 * A router that starts with an empty netDb joins the private network from the registry alone: the testnet's
 * RouterInfos are in the registry, alice's daemon builds a signed SU3 bundle from them, installs its own
 * certificate as the only trusted one, and i2pd reseeds from it with verification on. Alice's daemon then
 * publishes her own router's RouterInfo for the next newcomer.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { access, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWorkerNet, type WorkerNet } from '../../src/testnet/workers.js'
import { createDaemon, type Daemon } from '../../src/daemon/daemon.js'
import { loadDaemonConfig } from '../../src/daemon/config.js'
import { createHttpBackend } from '../../src/registry/index.js'
import { readRouterInfo } from '../../src/i2p/router-info.js'
import { readSu3 } from '../../src/reseed/index.js'
import { confPath, routerInfoPath } from '../../src/router/data-dir.js'
import { registryReseedFiles } from '../../src/daemon/registry-reseed.js'
import { sleep } from '../../src/signals.js'
import { testBinary, testLogger } from '../helpers/i2pd.js'

const logger = testLogger()

describe('a router bootstrapped from the registry alone', { timeout: 10 * 60_000 }, () => {
  let dir: string
  let net: WorkerNet
  let alice: Daemon
  const timing = { routerReadyMs: 0, firstTunnelsMs: 0, sessionUpMs: 0 }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prouter-reseed-'))
    net = await createWorkerNet(
      {
        dir,
        binary: await testBinary(),
        workers: [{ name: 'alice', suri: '//Alice', router: 'managed', start: false }],
      },
      { logger },
    )
    alice = await createDaemon(await loadDaemonConfig({ flags: net.worker('alice').input }), { logger })
    const started = Date.now()
    const tunnels = watchFirstTunnels(alice, started)
    await alice.start()
    timing.sessionUpMs = Date.now() - started
    Object.assign(timing, await tunnels)
  })
  after(async () => {
    await alice.stop()
    await net.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  test('the router had no netDb and was pointed only at a verified registry bundle', async (t) => {
    const config = alice.config.router
    assert.equal(config.mode, 'managed')
    const files = registryReseedFiles(config.dataDir)
    const conf = await readFile(confPath(config.dataDir), 'utf8')
    assert.match(conf, new RegExp(`^file = ${files.su3File}$`, 'm'))
    assert.match(conf, /^verify = true$/m)
    assert.match(conf, /^urls = $/m, 'no reseed server')
    assert.match(conf, new RegExp(`^certsdir = ${files.certsDir}$`, 'm'))
    assert.deepEqual(
      (await readdir(join(files.certsDir, 'reseed'))).length,
      1,
      'one trusted certificate: ours',
    )
    const bundle = readSu3(await readFile(files.su3File))
    const testnetIds = await Promise.all(
      net.testnet.state.routers
        .filter((r) => r.reachable)
        .map(async (r) => readRouterInfo(await readFile(routerInfoPath(r.dataDir))).id),
    )
    for (const id of testnetIds) assert.ok(bundle.content.includes(`routerInfo-${id}.dat`), `${id} in bundle`)
    t.diagnostic(
      `bundle: ${testnetIds.length} RouterInfos, ${bundle.content.length} B zip, signer ${bundle.signerId}`,
    )
  })

  test('it joined: peers known, tunnels built, the session up', async (t) => {
    const router = alice.router.router
    assert.ok(router)
    const stats = await router.stats()
    assert.ok(stats.knownPeers >= 4, `knows ${stats.knownPeers} routers`)
    assert.equal(stats.clientTunnelsReady, true)
    assert.equal(alice.session.isUp, true)
    const status = (await alice.status()) as { bootstrap: { reseed: { routers: number } } }
    assert.equal(status.bootstrap.reseed.routers, 3)
    t.diagnostic(
      `router ready ${timing.routerReadyMs} ms, first client tunnels ${timing.firstTunnelsMs} ms, ` +
        `SAM session up ${timing.sessionUpMs} ms after daemon start`,
    )
  })

  test("alice's daemon published her router's RouterInfo for the next newcomer", async () => {
    const config = alice.config.router
    assert.equal(config.mode, 'managed')
    await access(routerInfoPath(config.dataDir))
    const own = readRouterInfo(await readFile(routerInfoPath(config.dataDir)))
    const registry = createHttpBackend({ url: net.registryUrl, token: net.registryToken })
    try {
      const ids = (await registry.routerInfos.list()).map((b) => readRouterInfo(b).id)
      assert.ok(ids.includes(own.id), 'her RouterInfo is in the registry')
      assert.equal(ids.length, 4, 'the 3 reachable testnet routers and hers')
    } finally {
      await registry.close()
    }
  })
})

/** Poll the daemon's router from the start until its client tunnels are built. */
async function watchFirstTunnels(daemon: Daemon, started: number) {
  let routerReadyMs = 0
  for (;;) {
    const router = daemon.router.router
    if (router?.state === 'ready') {
      routerReadyMs ||= Date.now() - started
      const stats = await router.stats().catch(() => undefined)
      if (stats?.clientTunnelsReady === true) return { routerReadyMs, firstTunnelsMs: Date.now() - started }
    }
    if (Date.now() - started > 240_000) throw new Error('no client tunnels within 240 s')
    await sleep(200)
  }
}
