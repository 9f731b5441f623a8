/**
 * The supervisor's transition table, and failed starts with real processes (shell scripts standing in for
 * i2pd: they exit at once, so nothing is ever sent anywhere).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRouter, type Router } from '../../../src/router/router.js'
import { assertTransition, ROUTER_TRANSITIONS, type RouterState } from '../../../src/router/state.js'
import { i2pdCommand } from '../../../src/router/command.js'
import { isRouterPid, readPidFile } from '../../../src/router/pid.js'
import { planRouters, routerConfig } from '../../../src/testnet/plan.js'
import { isPRouterError } from '../../../src/errors.js'
import { silentLogger } from '../../../src/logger.js'
import type { I2pdBinary } from '../../../src/router/i2pd-binary.js'

const STATES: RouterState[] = ['idle', 'starting', 'ready', 'restarting', 'stopping', 'stopped']

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-supervisor-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A router whose "i2pd" is `script` (a shell script body). */
async function fakeRouter(t: { after: (fn: () => Promise<void>) => void }, script: string): Promise<Router> {
  const dir = await tempDir(t)
  const path = join(dir, 'fake-i2pd')
  await writeFile(path, `#!/bin/sh\n${script}\n`)
  await chmod(path, 0o755)
  const binary: I2pdBinary = { command: path, args: [], version: '2.56.0', source: 'explicit' }
  const [rec] = await planRouters({ dir, routers: 1, floodfills: 1, unreachable: 0 })
  assert.ok(rec)
  const config = routerConfig(rec, 77, { urls: [], verify: false, threshold: 0 }, undefined)
  const router = createRouter({ binary, config, readyTimeout: 5000 }, { logger: silentLogger() })
  t.after(() => router.stop())
  return router
}

test('the transition table names every state, and only its steps pass', () => {
  assert.deepEqual(Object.keys(ROUTER_TRANSITIONS).sort(), [...STATES].sort())
  for (const from of STATES) {
    for (const to of STATES) {
      const allowed = ROUTER_TRANSITIONS[from].includes(to)
      if (allowed) assertTransition('r', from, to)
      else
        assert.throws(
          () => {
            assertTransition('r', from, to)
          },
          (err: unknown) => isPRouterError(err, 'ERR_ROUTER_STATE'),
        )
    }
  }
  // the steps defect 1 needs: a failed restart attempt goes back to restarting, never to stopped
  assert.ok(ROUTER_TRANSITIONS.starting.includes('restarting'))
  assert.ok(!ROUTER_TRANSITIONS.restarting.includes('stopped'), 'only stop() ends a pending restart')
  assert.ok(!ROUTER_TRANSITIONS.stopped.includes('ready'))
})

test("a first start whose i2pd exits carries i2pd's error lines in ERR_ROUTER_EXITED", async (t) => {
  const router = await fakeRouter(
    t,
    [
      'echo "01:02:03@77/info - Daemon: starting"',
      'echo "01:02:03@77/critical - Daemon: Could not lock pid file /x/i2pd.pid: Resource temporarily unavailable"',
      'exit 1',
    ].join('\n'),
  )
  const states: string[] = []
  router.on('state', ({ to }) => states.push(to))
  await assert.rejects(router.start(), (err: unknown) => {
    assert.ok(isPRouterError(err, 'ERR_ROUTER_EXITED'))
    assert.match(err.message, /code 1\): Daemon: Could not lock pid file/)
    assert.doesNotMatch(err.message, /starting/, 'info lines are not errors')
    return true
  })
  assert.deepEqual(states, ['starting', 'stopped'])
  assert.equal(router.state, 'stopped')
})

test('a binary that cannot run fails the start with ERR_ROUTER_EXITED, not a hang', async (t) => {
  const router = await fakeRouter(t, 'exec /nonexistent/i2pd "$@"')
  const started = Date.now()
  await assert.rejects(router.start(), (err: unknown) => isPRouterError(err, 'ERR_ROUTER_EXITED'))
  assert.ok(Date.now() - started < 4000, 'reported at exit, not at the ready deadline')
})

test('stop() during start-up ends the process and rejects the start', async (t) => {
  const router = await fakeRouter(t, 'exec sleep 30')
  const starting = router.start().then(
    () => undefined,
    (err: unknown) => err,
  )
  await new Promise((resolve) => setTimeout(resolve, 300))
  const pid = router.pid ?? 0
  assert.ok(await isRouterPid(pid, 'sleep'))
  await router.stop()
  assert.ok(isPRouterError(await starting, 'ERR_ROUTER_NOT_RUNNING'))
  assert.equal(router.state, 'stopped')
  assert.equal(await isRouterPid(pid, 'sleep'), false)
})

test('i2pd runs with umask 077 and dies with its parent; pdeathsig only when not detached', () => {
  const binary: I2pdBinary = { command: '/ld.so', args: ['/i2pd'], version: '2.56.0', source: 'cache' }
  const managed = i2pdCommand({ binary, dataDir: '/d', netns: 'ns1', dieWithParent: true })
  assert.deepEqual(
    [managed.command, ...managed.args],
    [
      'ip',
      'netns',
      'exec',
      'ns1',
      'setpriv',
      '--pdeathsig',
      'KILL',
      '--',
      'sh',
      '-c',
      'umask 077; exec "$@"',
      'i2pd',
      '/ld.so',
      '/i2pd',
      '--conf=/d/i2pd.conf',
      '--datadir=/d',
    ],
  )
  const detached = i2pdCommand({ binary, dataDir: '/d', dieWithParent: false })
  assert.equal(detached.command, 'sh')
  assert.ok(!detached.args.includes('setpriv'))
})

test('pid helpers: exact markers, pid files, zombies and strangers', async (t) => {
  const dir = await tempDir(t)
  assert.equal(await readPidFile(dir), undefined)
  await writeFile(join(dir, 'i2pd.pid'), `${process.pid}\n`)
  assert.equal(await readPidFile(dir), process.pid)
  await writeFile(join(dir, 'i2pd.pid'), 'garbage')
  assert.equal(await readPidFile(dir), undefined)
  // this process's own command line as the kernel has it (process.argv differs from it under some runners)
  const own = (await readFile('/proc/self/cmdline', 'utf8')).split('\0').filter((a) => a !== '')
  const last = own.at(-1) ?? ''
  assert.ok(await isRouterPid(process.pid, (args) => args.includes(last)))
  assert.equal(await isRouterPid(process.pid, (args) => args.includes('--datadir=/nowhere')), false)
  assert.equal(await isRouterPid(0, 'node'), false)
})
