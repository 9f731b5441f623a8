/**
 * The testnet through the built CLI: `up --json`, `status --json`, `down` leaves no i2pd behind; `up --nat`
 * lives until Ctrl-C and leaves no namespace behind.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { isRouterPid } from '../../src/router/pid.js'
import { tempDir } from '../helpers/i2pd.js'
import { netnsPrefix } from '../../src/testnet/nat-network.js'
import { listNamespaces } from '../../src/testnet/netns/topology.js'

const run = promisify(execFile)
const CLI = 'dist/cli/main.js'

interface RouterView {
  name: string
  dataDir: string
  pid?: number
  running?: boolean
  reachable: boolean
  sam: string
  i2pcontrol: string
  stats?: { clientTunnelsReady: boolean; knownPeers: number }
}

async function prouter(...args: string[]): Promise<unknown> {
  const { stdout } = await run(process.execPath, [CLI, ...args], { timeout: 300_000 })
  return JSON.parse(stdout)
}

test('testnet up, status and down through the CLI', { timeout: 400_000 }, async (t) => {
  const dir = await tempDir(t, 'prouter-cli-')
  t.after(() => run(process.execPath, [CLI, 'testnet', 'down', '--dir', dir]).catch(() => undefined))
  const up = (await prouter(
    'testnet',
    'up',
    '--dir',
    dir,
    '--routers',
    '4',
    '--unreachable',
    '1',
    '--json',
  )) as {
    routers: RouterView[]
    upMs: number
  }
  assert.equal(up.routers.length, 4)
  assert.deepEqual(
    up.routers.map((r) => r.reachable),
    [true, true, true, false],
  )
  for (const r of up.routers) {
    assert.match(r.sam, /^127\.\d+\.\d+\.\d+:\d+$/)
    assert.match(r.i2pcontrol, /^127\.\d+\.\d+\.\d+:\d+$/)
    assert.ok(
      r.pid !== undefined && (await isRouterPid(r.pid, r.dataDir)),
      `${r.name} runs after up returned`,
    )
  }
  await assert.rejects(
    run(process.execPath, [CLI, 'testnet', 'up', '--dir', dir]),
    (err: { stderr?: string }) => /ERR_TESTNET_STATE/.test(err.stderr ?? ''),
    'a second up over a running testnet is refused',
  )
  const status = (await prouter('testnet', 'status', '--dir', dir, '--json')) as { routers: RouterView[] }
  for (const r of status.routers) {
    assert.equal(r.running, true)
    assert.equal(r.stats?.clientTunnelsReady, true)
  }
  const down = (await prouter('testnet', 'down', '--dir', dir, '--json')) as { stopped: number }
  assert.equal(down.stopped, 4)
  for (const r of up.routers) {
    assert.equal(await isRouterPid(r.pid ?? 0, r.dataDir), false, `${r.name} is gone after down`)
  }
  const after = (await prouter('testnet', 'status', '--dir', dir, '--json')) as { routers: RouterView[] }
  assert.ok(after.routers.every((r) => r.running === false))
})

test(
  'testnet up --nat stays in the foreground and removes its namespaces on Ctrl-C',
  { timeout: 400_000 },
  async (t) => {
    const dir = await tempDir(t, 'prouter-cli-nat-')
    const child = spawn(
      process.execPath,
      [CLI, 'testnet', 'up', '--nat', '--dir', dir, '--routers', '5', '--unreachable', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL')
    })
    const prefix = `${netnsPrefix(dir)}-`
    const lines: string[] = []
    for await (const line of createInterface({ input: child.stdout })) {
      lines.push(line)
      if (/behind NAT/.test(line)) break
    }
    const table = lines.join('\n')
    assert.match(table, /r4 +p[0-9a-f]{5}-n0 +192\.168\.100\.2 +behind NAT/, table)
    const running = (await listNamespaces()).filter((n) => n.startsWith(prefix))
    assert.ok(running.length >= 8, `namespaces while up: ${running.join(' ')}`)
    const exited = once(child, 'exit')
    child.kill('SIGINT')
    const [code] = (await exited) as [number | null]
    assert.equal(code, 0)
    assert.deepEqual(
      (await listNamespaces()).filter((n) => n.startsWith(prefix)),
      [],
    )
  },
)
