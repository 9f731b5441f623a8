/**
 * Supervising one real i2pd: readiness, I2PControl, restart after a crash (also when restarts fail), stop,
 * start-up deadline, a stale i2pd of the same data folder, i2pd's start-up errors, ports taken by another
 * process, the modes of its files.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { spawn } from 'node:child_process'
import { connect, createServer } from 'node:net'
import { chmod, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ReadinessProbe, Router } from '../../src/router/router.js'
import { createRouter } from '../../src/router/router.js'
import { confPath, prepareDataDir } from '../../src/router/data-dir.js'
import { i2pdCommand } from '../../src/router/command.js'
import { isRouterPid, readPidFile, stopPid } from '../../src/router/pid.js'
import { freePort } from '../../src/router/free-port.js'
import { planRouters, routerConfig } from '../../src/testnet/plan.js'
import { samHello } from '../../src/sam/index.js'
import { provisionI2pd } from '../../src/router/provision.js'
import { isPRouterError, type PRouterError } from '../../src/errors.js'
import type { TestContext } from 'node:test'
import { loneRouter, tempDir, testBinary, testLogger } from '../helpers/i2pd.js'

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

/**
 * A lone router whose "binary" is a wrapper around the real i2pd: while `<dir>/fail-budget` holds n > 0, a
 * run writes n-1 there, prints an error to stderr and exits 1 at once; else it execs the real i2pd.
 */
async function flakyRouter(
  t: TestContext,
): Promise<{ router: Router; failNext: (n: number) => Promise<void> }> {
  const dir = await tempDir(t, 'prouter-flaky-')
  const real = await testBinary()
  const budget = join(dir, 'fail-budget')
  const wrapper = join(dir, 'flaky-i2pd')
  const quoted = [real.command, ...real.args].map((a) => `'${a}'`).join(' ')
  await writeFile(
    wrapper,
    [
      '#!/bin/sh',
      `n=$(cat '${budget}' 2>/dev/null || echo 0)`,
      `if [ "$n" -gt 0 ]; then echo $((n - 1)) > '${budget}'; echo "i2pd: injected failure, $n left" >&2; exit 1; fi`,
      `exec ${quoted} "$@"`,
      '',
    ].join('\n'),
  )
  await chmod(wrapper, 0o755)
  const [rec] = await planRouters({ dir, routers: 1, floodfills: 1, unreachable: 0 })
  assert.ok(rec)
  const probe: ReadinessProbe = async (signal) => {
    await samHello(rec.sam, { signal })
  }
  const router = createRouter(
    {
      binary: { ...real, command: wrapper, args: [] },
      config: routerConfig(rec, 77, { urls: [], verify: false, threshold: 0 }, real.certsDir),
      restartBackoff: { min: 200, max: 1000 },
    },
    { logger: testLogger(), probes: [probe] },
  )
  t.after(() => router.stop())
  return { router, failNext: (n) => writeFile(budget, String(n)) }
}

test('a router whose restarts fail is restarted again, with capped backoff, until it is ready', async (t) => {
  const { router, failNext } = await flakyRouter(t)
  await router.start()
  const first = router.pid ?? 0
  const restarts: Array<{ attempt: number; delayMs: number }> = []
  const failures: PRouterError[] = []
  router.on('restart', (r) => restarts.push(r))
  router.on('restartFailed', (err) => failures.push(err))
  await failNext(4)
  const readyAgain = once(router, 'ready')
  process.kill(first, 'SIGKILL')
  await readyAgain
  assert.equal(router.state, 'ready')
  assert.notEqual(router.pid, first)
  assert.deepEqual(
    restarts.map((r) => r.delayMs),
    [200, 400, 800, 1000, 1000],
    'one restart after the exit, one after each of the 4 failed attempts; capped at 1000',
  )
  assert.equal(failures.length, 4)
  for (const err of failures) {
    assert.ok(isPRouterError(err, 'ERR_ROUTER_EXITED'))
    assert.match(err.message, /injected failure/, "i2pd's stderr is in the error")
  }
  assert.equal((await router.stats()).version, router.binary.version)
})

test('stop() ends a router that keeps failing its restarts: no attempt after it', async (t) => {
  const { router, failNext } = await flakyRouter(t)
  await router.start()
  await failNext(1000)
  let failures = 0
  router.on('restartFailed', () => failures++)
  const twoFailures = new Promise<void>((resolve) => {
    router.on('restartFailed', () => {
      if (failures >= 2) resolve()
    })
  })
  process.kill(router.pid ?? 0, 'SIGKILL')
  await twoFailures
  await router.stop()
  assert.equal(router.state, 'stopped')
  const seen = failures
  await new Promise((resolve) => setTimeout(resolve, 2500))
  assert.equal(failures, seen, 'no restart after stop()')
  assert.equal(router.state, 'stopped')
})

/** Resolves once something accepts connections on `host:port` (bounded: 60 s). */
async function listening({ host, port }: { host: string; port: number }): Promise<void> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const socket = connect(port, host)
    const up = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => {
        resolve(true)
      })
      socket.once('error', () => {
        resolve(false)
      })
    })
    socket.destroy()
    if (up) return
    assert.ok(Date.now() < deadline, `${host}:${port} never listened`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** i2pd options that move every listener of an i2pd to free ports (command-line options override its config). */
async function otherPorts(): Promise<string[]> {
  const names = ['port', 'sam.port', 'i2pcontrol.port', 'http.port']
  const ports = await Promise.all(names.map(() => freePort('127.0.0.1')))
  return names.map((name, i) => `--${name}=${ports[i]}`)
}

/** An i2pd of `router`'s data folder started by hand (as an orphan of a killed daemon would be). */
async function orphanOf(
  t: TestContext,
  router: Router,
  dataDirArg = router.config.dataDir,
  extraArgs: string[] = [],
): Promise<number> {
  await prepareDataDir(router.config)
  const { command, args } = i2pdCommand({ binary: router.binary, dataDir: dataDirArg, dieWithParent: true })
  const child = spawn(command, [...args, ...extraArgs], { stdio: 'ignore' })
  const pid = child.pid ?? 0
  t.after(() => stopPid(pid, 'i2pd'))
  const deadline = Date.now() + 20_000
  while ((await readPidFile(router.config.dataDir)) !== pid) {
    assert.ok(Date.now() < deadline, 'the orphan wrote its pid file')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return pid
}

test('a stale i2pd of the same data folder (named by its pid file) is stopped, and the router starts', async (t) => {
  const router = await oneRouter(t)
  const orphan = await orphanOf(t, router)
  const stale = once(router, 'stale')
  await router.start()
  assert.deepEqual(await stale, [{ pid: orphan }])
  assert.ok(await gone(orphan, router.config.dataDir))
  assert.notEqual(router.pid, orphan)
  assert.equal(router.state, 'ready')
})

test("an i2pd that is not ours holds the pid file (other ports): the start fails with i2pd's own reason", async (t) => {
  const router = await oneRouter(t)
  // the same folder by another spelling: not recognised as this router's (exact --datadir match), so kept
  const stranger = await orphanOf(t, router, `${router.config.dataDir}/`, await otherPorts())
  await assert.rejects(router.start(), (err: unknown) => {
    assert.ok(isPRouterError(err, 'ERR_ROUTER_EXITED'))
    assert.match(err.message, /Could not lock pid file/)
    return true
  })
  assert.ok(!(await gone(stranger, 'i2pd')), 'a process not known to be ours is left alone')
  assert.equal(router.state, 'stopped')
})

test('an i2pd that is not ours on the same ports: ERR_ROUTER_PORT_IN_USE names it, and its probes are not taken for ours', async (t) => {
  const router = await oneRouter(t)
  const stranger = await orphanOf(t, router, `${router.config.dataDir}/`)
  await listening(router.config.sam) // it writes its pid file before it opens its ports
  await assert.rejects(router.start(), (err: unknown) => {
    assert.ok(isPRouterError(err, 'ERR_ROUTER_PORT_IN_USE'), String(err))
    assert.ok(err.message.includes(`sam ${router.config.sam.host}:${router.config.sam.port}`), err.message)
    assert.ok(err.message.includes(`pid ${stranger}`), err.message)
    return true
  })
  assert.equal(router.pid, undefined, 'no i2pd was started')
  assert.ok(!(await gone(stranger, 'i2pd')), 'a process not known to be ours is left alone')
  assert.equal(router.state, 'stopped')
})

test('a port taken by another program: ERR_ROUTER_PORT_IN_USE, no i2pd started; free again, it starts', async (t) => {
  const router = await oneRouter(t)
  const squatter = createServer((socket) => socket.end('HELLO REPLY RESULT=OK VERSION=3.1\n'))
  await new Promise<void>((resolve) =>
    squatter.listen(router.config.i2pcontrol.port, router.config.i2pcontrol.host, resolve),
  )
  t.after(() => squatter.close())
  await assert.rejects(router.start(), (err: unknown) => {
    assert.ok(isPRouterError(err, 'ERR_ROUTER_PORT_IN_USE'))
    assert.ok(
      err.message.includes(`i2pcontrol ${router.config.i2pcontrol.host}:${router.config.i2pcontrol.port}`),
      err.message,
    )
    return true
  })
  assert.equal(router.pid, undefined)
  await new Promise((resolve) => squatter.close(resolve))
  await router.start()
  assert.equal(router.state, 'ready')
})

test('a listener i2pd cannot open as it starts (NTCP2, which no check before the start covers): ERR_ROUTER_PORT_IN_USE with its line, long before the deadline; that i2pd stopped', async (t) => {
  // i2pd logs a listener it cannot open as critical and runs on without it: without this check the start
  // waits out the deadline (I2PControl) or passes with a router nobody can connect to (NTCP2)
  const readyTimeout = 120_000
  const router = await oneRouter(t, undefined, readyTimeout)
  const { host, port } = router.config
  const squatter = createServer()
  await new Promise<void>((resolve) => squatter.listen(port, host, resolve))
  t.after(() => squatter.close())
  const started = performance.now()
  await assert.rejects(router.start(), (err: unknown) => {
    assert.ok(isPRouterError(err, 'ERR_ROUTER_PORT_IN_USE'), String(err))
    assert.match(err.message, new RegExp(`NTCP2: Failed to bind to v4 port ${port}.*Address already in use`))
    return true
  })
  const took = performance.now() - started
  assert.ok(
    took < readyTimeout / 2,
    `failed after ${Math.round(took)} ms, not at the ${readyTimeout} ms deadline`,
  )
  assert.equal(router.state, 'stopped')
  const pid = await readPidFile(router.config.dataDir)
  assert.ok(pid === undefined || (await gone(pid, router.config.dataDir)), `i2pd ${pid} stopped`)
  await new Promise((resolve) => squatter.close(resolve))
  await router.start()
  assert.equal(router.state, 'ready')
})

test('i2pd runs with umask 077: the files and folders it writes are private', async (t) => {
  const router = await oneRouter(t)
  await router.start()
  const dir = router.config.dataDir
  const entries = await readdir(dir, { withFileTypes: true })
  const names = entries.map((e) => e.name)
  for (const written of ['router.keys', 'router.info', 'i2pcontrol.key.pem', 'i2pd.pid']) {
    assert.ok(names.includes(written), `${written} written by i2pd`)
  }
  for (const e of entries) {
    const mode = (await stat(join(dir, e.name))).mode & 0o777
    assert.equal(mode & 0o077, 0, `${e.name} is ${mode.toString(8)}`)
  }
})

test('provisioning where the package archive cannot be reached fails saying so (ERR_ROUTER_PROVISION), no binary left', async (t) => {
  // the integration tests run where no packet leaves loopback: the archive is out of reach here
  const cacheDir = await tempDir(t, 'prouter-provision-')
  const started = performance.now()
  await assert.rejects(
    provisionI2pd({ cacheDir, release: 'forky' }, { logger: testLogger() }),
    (err: unknown) =>
      isPRouterError(err, 'ERR_ROUTER_PROVISION') &&
      /fetched no package list of Debian forky/.test(err.message),
  )
  t.diagnostic(`failed after ${Math.round(performance.now() - started)} ms`)
  assert.deepEqual(await readdir(cacheDir), ['apt'], 'no i2pd folder without a binary in it')
})
