/**
 * The main job as an operator runs it: `prouter demo` brings the network up, alice calls charlie by key and
 * charlie's service is told, verified, that alice called; it keeps running until SIGINT (Ctrl-C), then every
 * process it started is gone.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { sleep } from '../../src/signals.js'
import { tempDir } from '../helpers/i2pd.js'

const ALICE = '0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d'

test(
  'prouter demo: alice calls charlie by key, runs until SIGINT, leaves no process behind',
  { timeout: 5 * 60_000 },
  async (t) => {
    const dir = await tempDir(t, 'prouter-demo-')
    const env = { ...process.env }
    delete env.PROUTER_I2PD
    const demo = spawn(process.execPath, ['dist/cli/main.js', 'demo', '--dir', dir], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    t.after(() => {
      if (demo.exitCode === null) demo.kill('SIGKILL')
    })
    const lines: string[] = []
    for await (const line of createInterface({ input: demo.stdout })) {
      lines.push(line)
      if (line.startsWith('running;')) break
    }
    const out = lines.join('\n')
    assert.match(out, /alice -> charlie by key: HTTP 200 in [\d.]+ ms/)
    assert.match(out, new RegExp(`told the caller is ${ALICE}\\n  = alice: verified`))
    assert.match(out, /charlie: http:\/\/127\.0\.0\.1:\d+\/v1\/status/)
    const pids = [
      ...(await routerPids(dir)),
      ...[...out.matchAll(/own i2pd, pid (\d+)/g)].map((m) => Number(m[1])),
    ]
    assert.equal(pids.length, 6, '4 testnet routers and the routers of alice and bob')
    assert.ok(pids.every(alive))
    demo.kill('SIGINT')
    const [code] = (await Promise.race([once(demo, 'exit'), sleep(90_000).then(() => ['timeout'])])) as [
      unknown,
    ]
    assert.equal(code, 0)
    assert.deepEqual(pids.filter(alive), [], 'every router it started is gone')
  },
)

async function routerPids(dir: string): Promise<number[]> {
  const state = JSON.parse(await readFile(join(dir, 'testnet', 'testnet.json'), 'utf8')) as {
    routers: Array<{ pid?: number }>
  }
  return state.routers.map((r) => r.pid ?? 0)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
