/** Supervising one real i2pd: readiness, I2PControl, restart after a crash, stop, start-up deadline. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { stat } from 'node:fs/promises'
import type { ReadinessProbe, Router } from '../../src/router/router.js'
import { confPath } from '../../src/router/data-dir.js'
import { isRouterPid } from '../../src/router/pid.js'
import { isPRouterError } from '../../src/errors.js'
import type { TestContext } from 'node:test'
import { loneRouter } from '../helpers/i2pd.js'

async function oneRouter(t: TestContext, probes?: ReadinessProbe[], readyTimeout?: number): Promise<Router> {
  const { router } = await loneRouter(t, {
    ...(probes === undefined ? {} : { probes }),
    ...(readyTimeout === undefined ? {} : { readyTimeout }),
  })
  return router
}

async function gone(pid: number, dataDir: string): Promise<boolean> {
  return !(await isRouterPid(pid, dataDir))
}

test('start waits for I2PControl and SAM; stats come from the running router', async (t) => {
  const router = await oneRouter(t)
  await router.start()
  assert.equal(router.state, 'ready')
  const stats = await router.stats()
  assert.equal(stats.version, router.binary.version)
  assert.ok(stats.uptimeMs >= 0)
  assert.equal((await stat(confPath(router.config.dataDir))).mode & 0o777, 0o600, 'config holds passwords')
})

test('an unexpected exit is reported and the router is restarted', async (t) => {
  const router = await oneRouter(t)
  await router.start()
  const first = router.pid
  assert.ok(first)
  const exited = once(router, 'exit')
  const restarting = once(router, 'restart')
  const readyAgain = once(router, 'ready')
  process.kill(first, 'SIGKILL')
  const [exit] = (await exited) as [{ expected: boolean; signal: string }]
  assert.deepEqual([exit.expected, exit.signal], [false, 'SIGKILL'])
  await restarting
  await readyAgain
  assert.notEqual(router.pid, first)
  assert.equal(router.state, 'ready')
  assert.equal((await router.stats()).version, router.binary.version)
})

test('stop ends the process and is idempotent; a graceful stop is bounded', async (t) => {
  const router = await oneRouter(t)
  await router.start()
  const pid = router.pid ?? 0
  await router.stop()
  assert.ok(await gone(pid, router.config.dataDir))
  assert.equal(router.state, 'stopped')
  await router.stop()
  await router.start()
  const second = router.pid ?? 0
  const started = Date.now()
  await router.stopGracefully()
  assert.ok(await gone(second, router.config.dataDir))
  assert.ok(Date.now() - started < 150_000)
})

test('a router that never becomes ready fails with ERR_ROUTER_START_TIMEOUT and is stopped', async (t) => {
  const never: ReadinessProbe = () => Promise.reject(new Error('not yet'))
  const router = await oneRouter(t, [never], 3000)
  await assert.rejects(router.start(), (err: unknown) => isPRouterError(err, 'ERR_ROUTER_START_TIMEOUT'))
  assert.equal(router.state, 'stopped')
})
