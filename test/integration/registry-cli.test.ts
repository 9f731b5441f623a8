/** Keys and the registry through the built CLI: keys init/show, registry serve, publish, resolve. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { chmod, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { tempDir } from '../helpers/i2pd.js'

const run = promisify(execFile)
const CLI = 'dist/cli/main.js'
const ALICE = '0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d'

async function prouter(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(process.execPath, [CLI, ...args], { timeout: 60_000 })
  return JSON.parse(stdout) as Record<string, unknown>
}

test('keys init imports //Alice, keys show reads it back, a readable key file is refused', async (t) => {
  const dir = join(await tempDir(t), 'keys')
  const init = await prouter('keys', 'init', '--dir', dir, '--suri', '//Alice', '--json')
  assert.equal(init.workerKey, ALICE)
  assert.match(String(init.b32), /^[a-z2-7]{52}\.b32\.i2p$/)
  assert.deepEqual(
    await prouter('keys', 'show', '--dir', dir, '--json'),
    init,
    'the address survives a reload',
  )
  await assert.rejects(run(process.execPath, [CLI, 'keys', 'init', '--dir', dir]), /ERR_KEY_FILE_EXISTS/)
  await chmod(join(dir, 'worker.key'), 0o644)
  await assert.rejects(run(process.execPath, [CLI, 'keys', 'show', '--dir', dir]), /ERR_KEY_FILE_MODE/)
})

test('publish and resolve through `registry serve` and through the embedded store', async (t) => {
  const root = await tempDir(t)
  const keys = join(root, 'keys')
  const registryDir = join(root, 'registry')
  const init = await prouter('keys', 'init', '--dir', keys, '--suri', '//Bob', '--json')
  const server = spawn(process.execPath, [CLI, 'registry', 'serve', '--dir', registryDir, '--port', '0'])
  t.after(() => {
    server.kill('SIGTERM')
  })
  const url = await readyUrl(server.stdout)
  const token = (await readFile(join(registryDir, 'token'), 'utf8')).trim()
  const http = ['--registry', 'http', '--registry-url', url]
  await assert.rejects(
    run(process.execPath, [CLI, 'publish', '--keys', keys, ...http, '--registry-token', 'wrong']),
    /ERR_REGISTRY_UNAUTHORIZED/,
  )
  const published = await prouter('publish', '--keys', keys, ...http, '--registry-token', token, '--json')
  assert.deepEqual(published.endpoints, [init.endpoint])
  const resolved = await prouter('resolve', String(init.workerKey), ...http, '--json')
  assert.deepEqual([resolved.endpoints, resolved.verified], [[init.endpoint], true])
  t.diagnostic(
    `publish ${Number(published.ms).toFixed(1)} ms, resolve ${Number(resolved.ms).toFixed(1)} ms over HTTP`,
  )
  const local = await prouter(
    'resolve',
    String(init.workerKey),
    '--registry',
    'local',
    '--registry-dir',
    registryDir,
    '--json',
  )
  assert.deepEqual(local.endpoints, [init.endpoint], 'the embedded store is the one the server writes')
  await assert.rejects(run(process.execPath, [CLI, 'resolve', ALICE, ...http]), /ERR_REGISTRY_NOT_FOUND/)
})

function readyUrl(stdout: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error('registry serve printed no ready line'))
    }, 20_000)
    createInterface({ input: stdout }).on('line', (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line)
      if (m?.[1] !== undefined) {
        clearTimeout(timer)
        resolve(m[1])
      }
    })
  })
}
