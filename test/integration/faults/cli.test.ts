/**
 * Stopping the built CLI with more than one signal (docs/config.md, "Stopping"): whatever arrives, every
 * process a command started is gone when it exits and no namespace it created is left. Signals are sent for
 * real: SIGINT twice in quick succession (Ctrl-C pressed twice), SIGTERM to the process and then its group
 * (what coreutils `timeout` does), three SIGINTs (forced exit), and a teardown held up by a SIGSTOPped i2pd
 * (the teardown bound). The processes a command started are read from /proc (its descendants) once it is
 * ready; run under scripts/isolated.sh (root, for the NAT testnet).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { descendants } from '../../../src/cli/lifetime.js'
import { netnsPrefix } from '../../../src/testnet/nat-network.js'
import { listNamespaces } from '../../../src/testnet/netns/topology.js'
import { sleep } from '../../../src/signals.js'
import { createWorkerNet } from '../../../src/testnet/workers.js'
import { testBinary, testLogger, tempDir } from '../../helpers/i2pd.js'

const CLI = 'dist/cli/main.js'
const ROOT = process.getuid?.() === 0

interface Started {
  child: ChildProcess
  stdout: string[]
  stderr: string[]
  exited: Promise<[number | null, NodeJS.Signals | null]>
}

/** The built CLI, in its own process group, its output collected; resolves once `ready` matches a line. */
async function startCli(
  t: { after: (fn: () => void) => void },
  args: string[],
  ready: RegExp,
  timeout = 300_000,
): Promise<Started> {
  const env = { ...process.env }
  delete env.PROUTER_I2PD
  const child = spawn(process.execPath, [CLI, ...args], { env, detached: true, stdio: 'pipe' })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const started: Started = { child, stdout: [], stderr: [], exited }
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) => started.stderr.push(l))
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
  try {
    for await (const line of lines) {
      started.stdout.push(line)
      if (ready.test(line)) {
        lines.on('line', (l) => started.stdout.push(l))
        return started
      }
    }
  } finally {
    clearTimeout(timer)
  }
  throw new Error(`${args.join(' ')} exited before it was ready:\n${started.stderr.join('\n')}`)
}

/** Running and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** The exit, bounded; then (grace for zombies to be reaped by init) what it left. */
async function exitOf(s: Started, bound: number): Promise<[number | null, NodeJS.Signals | null]> {
  const result = await Promise.race([s.exited, sleep(bound).then(() => 'timeout' as const)])
  if (result === 'timeout') throw new Error(`no exit within ${bound} ms:\n${s.stderr.join('\n')}`)
  return result
}

async function leftOf(pids: readonly number[], prefix?: string): Promise<[number[], string[]]> {
  for (let i = 0; i < 20 && pids.some(alive); i++) await sleep(100)
  const namespaces =
    prefix === undefined ? [] : (await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`))
  return [pids.filter(alive), namespaces]
}

/**
 * Two signals 100 ms apart (closer, the kernel may merge them: a signal already pending is not queued again;
 * `timeout`'s two are merged or not, both cases are covered by the group test).
 */
async function twice(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  child.kill(signal)
  await sleep(100)
  child.kill(signal)
}

const NAT_UP = ['testnet', 'up', '--nat', '--routers', '4', '--floodfills', '1', '--unreachable', '1']

test(
  'testnet up --nat, SIGINT twice in quick succession: teardown runs, no process or namespace left',
  { timeout: 400_000, skip: !ROOT && 'needs root' },
  async (t) => {
    const dir = await tempDir(t, 'prouter-cli-sig-')
    const s = await startCli(t, [...NAT_UP, '--dir', dir], /behind NAT/)
    const pids = descendants(s.child.pid ?? 0)
    const prefix = netnsPrefix(dir)
    assert.ok(pids.length >= 9, `4 routers and 5 agents at least, got ${pids.length}`)
    assert.ok((await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`)).length >= 6)
    const t0 = performance.now()
    await twice(s.child, 'SIGINT')
    const [code] = await exitOf(s, 60_000)
    const ms = performance.now() - t0
    assert.equal(code, 0, s.stderr.join('\n'))
    assert.ok(
      s.stderr.some((l) => /SIGINT again: still stopping/.test(l)),
      'the second one is noted',
    )
    assert.ok(s.stderr.some((l) => /stopped: routers, agents and namespaces removed/.test(l)))
    assert.deepEqual(await leftOf(pids, prefix), [[], []])
    t.diagnostic(`double SIGINT: ${pids.length} processes, exit ${code} after ${Math.round(ms)} ms`)
  },
)

test(
  'testnet up --nat, SIGTERM to the process then its group (coreutils timeout): nothing left',
  { timeout: 400_000, skip: !ROOT && 'needs root' },
  async (t) => {
    const dir = await tempDir(t, 'prouter-cli-sig-')
    const s = await startCli(t, [...NAT_UP, '--dir', dir], /behind NAT/)
    const pids = descendants(s.child.pid ?? 0)
    const pid = s.child.pid ?? 0
    const t0 = performance.now()
    process.kill(pid, 'SIGTERM')
    process.kill(-pid, 'SIGTERM') // the whole group: the routers and agents get it too
    const [code] = await exitOf(s, 60_000)
    const ms = performance.now() - t0
    assert.equal(code, 0, s.stderr.join('\n'))
    assert.deepEqual(await leftOf(pids, netnsPrefix(dir)), [[], []])
    t.diagnostic(`SIGTERM to the group: ${pids.length} processes, exit ${code} after ${Math.round(ms)} ms`)
  },
)

test(
  'testnet up --nat, three SIGINTs: forced exit 130 after killing its processes and namespaces',
  { timeout: 400_000, skip: !ROOT && 'needs root' },
  async (t) => {
    const dir = await tempDir(t, 'prouter-cli-sig-')
    const s = await startCli(t, [...NAT_UP, '--dir', dir], /behind NAT/)
    const pids = descendants(s.child.pid ?? 0)
    await twice(s.child, 'SIGINT')
    await sleep(100)
    s.child.kill('SIGINT')
    const [code] = await exitOf(s, 30_000)
    assert.equal(code, 130, s.stderr.join('\n'))
    assert.ok(s.stderr.some((l) => /SIGINT a third time: killing what this command started/.test(l)))
    assert.deepEqual(await leftOf(pids, netnsPrefix(dir)), [[], []])
  },
)

test(
  'demo with a SIGSTOPped router: the teardown bound kills what it started and exits 1',
  { timeout: 400_000 },
  async (t) => {
    const dir = await tempDir(t, 'prouter-cli-sig-')
    const s = await startCli(t, ['--teardown-timeout', '3000', 'demo', '--dir', dir], /^running;/)
    const pids = descendants(s.child.pid ?? 0)
    assert.ok(pids.length >= 6, `4 testnet routers and the routers of alice and bob: ${pids.join(' ')}`)
    const alice = Number(/^alice .*own i2pd, pid (\d+)/m.exec(s.stdout.join('\n'))?.[1])
    assert.ok(pids.includes(alice), `alice's router ${alice} is among ${pids.join(' ')}`)
    process.kill(alice, 'SIGSTOP') // a SIGTERM now waits for its stop timeout (10 s)
    t.after(() => {
      if (alive(alice)) process.kill(alice, 'SIGKILL')
    })
    const t0 = performance.now()
    s.child.kill('SIGINT')
    const [code] = await exitOf(s, 30_000)
    const ms = performance.now() - t0
    assert.equal(code, 1, s.stderr.join('\n'))
    assert.ok(s.stderr.some((l) => /ERR_TEARDOWN_TIMEOUT: teardown did not end within 3000 ms/.test(l)))
    assert.ok(ms >= 3000 && ms < 10_000, `forced after the bound, not after the router's 10 s: ${ms} ms`)
    assert.deepEqual(await leftOf(pids), [[], []])
    t.diagnostic(`teardown bound 3000 ms: exit ${code} after ${Math.round(ms)} ms`)
  },
)

test(
  'demo --nat, SIGTERM to the process then its group (coreutils timeout): no process, no namespace left',
  { timeout: 500_000, skip: !ROOT && 'needs root' },
  async (t) => {
    const dir = await tempDir(t, 'prouter-cli-sig-')
    const s = await startCli(t, ['demo', '--nat', '--dir', dir], /^running;/, 400_000)
    const pids = descendants(s.child.pid ?? 0)
    const prefix = netnsPrefix(join(dir, 'testnet'))
    const namespaces = (await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`))
    assert.ok(pids.length >= 13, `6 routers and 7 agents at least: ${pids.join(' ')}`)
    assert.ok(namespaces.length >= 9, namespaces.join(' '))
    const pid = s.child.pid ?? 0
    const t0 = performance.now()
    process.kill(pid, 'SIGTERM')
    process.kill(-pid, 'SIGTERM')
    const [code] = await exitOf(s, 60_000)
    const ms = performance.now() - t0
    assert.equal(code, 0, s.stderr.join('\n'))
    assert.deepEqual(await leftOf(pids, prefix), [[], []])
    t.diagnostic(
      `demo --nat, SIGTERM to the group: ${pids.length} processes, ${namespaces.length} namespaces, ` +
        `exit ${code} after ${Math.round(ms)} ms`,
    )
  },
)

test(
  'run (its own i2pd), SIGINT twice: the daemon stops, its router is gone, exit 0',
  { timeout: 500_000 },
  async (t) => {
    const dir = await tempDir(t, 'prouter-cli-sig-')
    const net = await createWorkerNet(
      {
        dir,
        binary: await testBinary(),
        workers: [{ name: 'alice', suri: '//Alice', router: 'managed', start: false }],
      },
      { logger: testLogger() },
    )
    t.after(() => net.destroy())
    const file = join(dir, 'alice.json')
    await writeFile(file, JSON.stringify(net.worker('alice').input), { mode: 0o600 })
    const s = await startCli(t, ['run', '--config', file, '--json'], /"ready":true/)
    const pids = descendants(s.child.pid ?? 0)
    assert.ok(pids.length >= 1, 'its i2pd')
    const t0 = performance.now()
    await twice(s.child, 'SIGINT')
    const [code] = await exitOf(s, 60_000)
    const ms = performance.now() - t0
    assert.equal(code, 0, s.stderr.join('\n'))
    assert.ok(s.stderr.some((l) => /SIGINT again: still stopping/.test(l)))
    assert.deepEqual(await leftOf(pids), [[], []])
    t.diagnostic(`run, double SIGINT: ${pids.length} processes, exit ${code} after ${Math.round(ms)} ms`)
  },
)

test('registry serve: SIGINT twice, the store closed, exit 0, the port free again', async (t) => {
  const dir = await tempDir(t, 'prouter-cli-sig-')
  const s = await startCli(
    t,
    ['registry', 'serve', '--dir', join(dir, 'registry'), '--port', '0'],
    /^registry listening on/,
    60_000,
  )
  const url = /listening on (\S+)/.exec(s.stdout[0] ?? '')?.[1] ?? ''
  assert.ok((await fetch(url)).status > 0, 'it answers')
  await twice(s.child, 'SIGINT')
  const [code, signal] = await exitOf(s, 30_000)
  // its teardown takes a few ms: the second SIGINT may come while Node is already exiting, its signal
  // handlers gone, and end it with that signal (harmless: everything is closed by then)
  assert.ok(code === 0 || signal === 'SIGINT', `${code} ${signal}: ${s.stderr.join('\n')}`)
  assert.ok(s.stderr.some((l) => /SIGINT: stopping/.test(l)))
  await assert.rejects(fetch(url), 'nothing listens any more')
})
