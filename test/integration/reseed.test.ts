/**
 * Signed SU3 reseed bundles on real i2pd (run isolated: see scripts/isolated.sh). One testnet of 3 routers
 * for the file; each case starts a new router with an empty data folder, `[reseed] file = <bundle>.su3`,
 * `verify = true` and a certsdir holding only the reseed certificate of key A:
 * 1. a bundle of the testnet's RouterInfos signed by key A: the router learns them and builds tunnels;
 * 2. the same bundle with one content byte flipped, and 3. a bundle signed by key B (certificate not
 *    installed): i2pd logs its verification failure and the router learns no peer.
 */
import { after, before, describe, test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { createTestnet } from '../../src/testnet/index.js'
import type { Testnet } from '../../src/testnet/index.js'
import { planRouters, routerConfig } from '../../src/testnet/plan.js'
import { routerInfoPath } from '../../src/router/data-dir.js'
import type { I2pdBinary } from '../../src/router/binary.js'
import { createRouter } from '../../src/router/router.js'
import type { Router } from '../../src/router/router.js'
import type { RouterStats } from '../../src/router/i2pcontrol.js'
import { samHello } from '../../src/sam/index.js'
import {
  buildReseedBundle,
  installReseedCertificate,
  loadOrCreateReseedKey,
  readSu3,
} from '../../src/reseed/index.js'
import type { ReseedKey, RouterInfoFile } from '../../src/reseed/index.js'
import { SU3_HEADER_LENGTH } from '../../src/reseed/su3.js'
import { isPRouterError } from '../../src/errors.js'
import { captureLogger } from '../helpers/capture-logger.js'
import type { CapturedLog } from '../helpers/capture-logger.js'
import { testBinary, testLogger } from '../helpers/i2pd.js'

const TUNNELS_TIMEOUT = 5 * 60_000
const LOG_TIMEOUT = 60_000
const QUIET_WINDOW = 15_000

describe('SU3 reseed bundles on i2pd', { timeout: 10 * 60_000 }, () => {
  let dir: string
  let binary: I2pdBinary
  let net: Testnet | undefined
  let certsDir: string
  let routerInfos: RouterInfoFile[]
  let keyA: ReseedKey
  let keyB: ReseedKey
  let joiners = 0

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prouter-reseed-'))
    binary = await testBinary()
    const netUp = createTestnet({ dir: join(dir, 'net'), binary, routers: 3 }, { logger: testLogger() })
    const keys = Promise.all([
      loadOrCreateReseedKey(join(dir, 'key-a')),
      loadOrCreateReseedKey(join(dir, 'key-b')),
    ])
    net = await netUp
    ;[keyA, keyB] = await keys
    certsDir = join(dir, 'certs')
    await installReseedCertificate(certsDir, keyA.signerId, keyA.certificatePem)
    const reachable = net.state.routers.filter((r) => r.reachable)
    routerInfos = await Promise.all(
      reachable.map(async (r) => ({ id: r.name, bytes: await readFile(routerInfoPath(r.dataDir)) })),
    )
  })
  after(async () => {
    await net?.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  /** A new router with an empty data folder, reseeding only from `su3`; stopped after the test. */
  async function startJoiner(t: TestContext, su3: Buffer): Promise<{ router: Router; logs: CapturedLog[] }> {
    const name = `joiner${joiners++}`
    const su3File = join(dir, `${name}.su3`)
    await writeFile(su3File, su3)
    const [rec] = await planRouters({ dir: join(dir, name), routers: 1, floodfills: 0, unreachable: 0 })
    assert.ok(rec && net)
    const reseed = { su3File, verify: true, urls: [], threshold: routerInfos.length }
    const logger = captureLogger()
    const router = createRouter(
      {
        name,
        binary,
        config: routerConfig(rec, net.state.netId, reseed, certsDir),
        restart: false,
        // a first start makes i2pd generate an RSA-4096 key for I2PControl before it answers; once in ~10
        // runs on the loaded 2-core machine the default 60 s was not enough (log tail kept for next time)
        readyTimeout: 120_000,
      },
      { logger, probes: [(signal) => samHello(rec.sam, { signal }).then(() => undefined)] },
    )
    t.after(() => router.stop())
    try {
      await router.start()
    } catch (err) {
      const tail = logger.records.slice(-25).map((r) => String(r.msg))
      throw new Error(`${name} did not start: ${(err as Error).message}\n${tail.join('\n')}`, { cause: err })
    }
    return { router, logs: logger.records }
  }

  test('a bundle signed by a trusted key: the empty router learns the network and builds tunnels', async (t) => {
    const su3 = buildReseedBundle(routerInfos, keyA)
    const started = Date.now()
    const { router, logs } = await startJoiner(t, su3)
    const readyMs = Date.now() - started
    const stats = await until(router, (s) => s.clientTunnelsReady, TUNNELS_TIMEOUT, 'client tunnels')
    const tunnelsMs = Date.now() - started
    // i2pd counts itself among the routers it knows
    assert.ok(stats.knownPeers >= routerInfos.length + 1, `${stats.knownPeers} routers known`)
    assert.deepEqual(failures(logs), [], 'no verification failure logged')
    t.diagnostic(
      `empty netDb -> client tunnels: ${tunnelsMs} ms (router ready after ${readyMs} ms; ` +
        `${stats.knownPeers} routers known, bundle of ${routerInfos.length}, ${su3.length} bytes)`,
    )
  })

  describe('refused bundles', { concurrency: true }, () => {
    test('one flipped byte in the zip: i2pd logs the failed signature and learns no router', async (t) => {
      const su3 = Buffer.from(buildReseedBundle(routerInfos, keyA))
      const contentStart = SU3_HEADER_LENGTH + (su3[13] ?? 0) + (su3[15] ?? 0)
      const at = contentStart + Math.floor(Number(su3.readBigUInt64BE(16)) / 2)
      su3[at] = (su3[at] ?? 0) ^ 0x01
      const trusted = new Map([[keyA.signerId, keyA.certificatePem]])
      assert.throws(
        () => readSu3(su3, { trusted }),
        (err: unknown) => isPRouterError(err, 'ERR_SU3_SIGNATURE'),
      )
      const { router, logs } = await startJoiner(t, su3)
      const lines = await logged(logs, /Reseed: SU3 verification failed/)
      assert.ok(lines.includes('Reseed: SU3 signature verification failed'), lines.join('\n'))
      t.diagnostic(lines.join(' | '))
      await staysAlone(t, router)
    })

    test('signed by a key whose certificate is not installed: refused likewise', async (t) => {
      const { router, logs } = await startJoiner(t, buildReseedBundle(routerInfos, keyB))
      const lines = await logged(logs, /Reseed: SU3 verification failed/)
      const notLoaded = `Reseed: Certificate for ${keyB.signerId} not loaded`
      assert.ok(lines.includes(notLoaded), lines.join('\n'))
      t.diagnostic(lines.join(' | '))
      await staysAlone(t, router)
    })
  })
})

/** Poll the router's stats every second until `ok`, or fail after `ms`. */
async function until(
  router: Router,
  ok: (s: RouterStats) => boolean,
  ms: number,
  what: string,
): Promise<RouterStats> {
  const deadline = Date.now() + ms
  let last: RouterStats | undefined
  while (Date.now() < deadline) {
    last = await router.stats().catch(() => last)
    if (last !== undefined && ok(last)) return last
    await delay(1000)
  }
  assert.fail(`${what} not reached in ${ms} ms (last stats: ${JSON.stringify(last)})`)
}

/** i2pd's reseed messages so far; waits (bounded) until one matches `done`. */
async function logged(logs: readonly CapturedLog[], done: RegExp): Promise<string[]> {
  const deadline = Date.now() + LOG_TIMEOUT
  for (;;) {
    const lines = logs.map((l) => l.msg ?? '').filter((m) => m.startsWith('Reseed: '))
    if (lines.some((l) => done.test(l))) return lines
    if (Date.now() > deadline) assert.fail(`no "${done.source}" in ${LOG_TIMEOUT} ms: ${lines.join(' | ')}`)
    await delay(250)
  }
}

function failures(logs: readonly CapturedLog[]): string[] {
  return logs
    .map((l) => l.msg ?? '')
    .filter((m) => /verification failed|Certificate for .* not loaded/.test(m))
}

/** For the quiet window, the router knows no router but itself (i2pd counts itself) and saves none. */
async function staysAlone(t: TestContext, router: Router): Promise<void> {
  const end = Date.now() + QUIET_WINDOW
  const seen = new Set<number>()
  while (Date.now() < end) {
    const stats = await router.stats()
    seen.add(stats.knownPeers)
    assert.ok(stats.knownPeers <= 1, `${stats.knownPeers} routers known after a refused bundle`)
    assert.equal(stats.clientTunnelsReady, false)
    await delay(1000)
  }
  assert.deepEqual(await netDbFiles(router.config.dataDir), [])
  t.diagnostic(`known routers during ${QUIET_WINDOW} ms: ${[...seen].join(', ')}`)
}

async function netDbFiles(dataDir: string): Promise<string[]> {
  const entries = await readdir(join(dataDir, 'netDb'), { recursive: true }).catch(() => [])
  return entries.filter((e) => e.endsWith('.dat'))
}
