/**
 * deploy/systemd/prouter.service, checked offline with systemd-analyze (the `systemd` package; ensure-tools.sh
 * installs it). `verify` wants ExecStart's binary to exist, and this machine has no /usr/local/bin/prouter, so a
 * copy runs `prouter run` as this machine's node and the built CLI (npm test builds before the integration
 * tests); the unit as shipped must fail on that one line and nothing else. `verify` exits 0 on directives it
 * cannot parse (it ignores them with a warning), so any output at all fails the test.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { tempDir } from '../helpers/i2pd.js'

const UNIT = 'deploy/systemd/prouter.service'
const SHIPPED_EXEC = 'ExecStart=/usr/local/bin/prouter run'

function analyze(args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    execFile('systemd-analyze', args, { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      done({ code, output: `${stdout}${stderr}`.trim() })
    })
  })
}

/** The unit under its own name in a fresh folder, ExecStart replaced when `exec` is given. */
async function unitCopy(t: Parameters<typeof tempDir>[0], exec?: string): Promise<string> {
  const text = await readFile(UNIT, 'utf8')
  assert.ok(text.includes(`\n${SHIPPED_EXEC}\n`), `${UNIT} runs ${SHIPPED_EXEC}`)
  const path = join(await tempDir(t, 'prouter-unit-'), 'prouter.service')
  await writeFile(path, exec === undefined ? text : text.replace(SHIPPED_EXEC, `ExecStart=${exec}`))
  return path
}

test('systemd-analyze verify: the unit parses with no warning', async (t) => {
  const path = await unitCopy(t, `${process.execPath} ${resolve('dist/cli/main.js')} run`)
  const r = await analyze(['verify', path])
  assert.deepEqual(r, { code: 0, output: '' })
})

test('as shipped, the only complaint is the missing /usr/local/bin/prouter', async (t) => {
  const r = await analyze(['verify', await unitCopy(t)])
  assert.equal(
    r.output,
    'prouter.service: Command /usr/local/bin/prouter is not executable: No such file or directory',
  )
})

test('the hardening and lifecycle the deployment guide promises', async () => {
  const text = await readFile(UNIT, 'utf8')
  for (const line of [
    'User=prouter',
    'StateDirectory=prouter',
    'EnvironmentFile=/etc/prouter/prouter.env',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'NoNewPrivileges=yes',
    'KillMode=mixed',
    'Restart=on-failure',
    'RestartSec=5',
  ]) {
    assert.ok(text.split('\n').includes(line), `${UNIT} has ${line}`)
  }
})

test('systemd-analyze security: overall exposure 2.0 or lower (10 is unprotected)', async (t) => {
  const path = await unitCopy(t, `${process.execPath} ${resolve('dist/cli/main.js')} run`)
  const r = await analyze(['security', '--offline=yes', path])
  const level = Number(/Overall exposure level for prouter\.service: ([\d.]+)/.exec(r.output)?.[1])
  assert.ok(level <= 2, `exposure ${String(level)}:\n${r.output}`)
  t.diagnostic(`exposure ${String(level)}`)
})
