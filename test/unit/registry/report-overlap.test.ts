/**
 * Overlapping periods of one worker (issue 13, attack 4): [s, e), [s + 1 ms, e + 1 ms) and [s + 2 ms, …) once
 * were three reports, valued three times. Files bypass the registry's refusal, so readers catch them too: the
 * cross-check flags them as one equivocation, and the valuation drops all of them.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { workerKeyFromSuri } from '../../../src/identity/index.js'
import { crossCheck } from '../../../src/metering/cross-check.js'
import { valueReports } from '../../../src/metering/valuation.js'
import { REPORT_PERIOD as P, signedReport } from '../../helpers/registry-compliance.js'

const T0 = 1_764_756_000_000
const alice = await workerKeyFromSuri('//Alice')
const bob = await workerKeyFromSuri('//Bob')
const shifted = [0, 1, 2].map((ms) => signedReport(alice, T0 + ms).report)
const honest = signedReport(bob, T0).report

test('overlapping periods of one worker are one equivocation; adjacent periods are not', () => {
  const result = crossCheck([...shifted, honest])
  assert.deepEqual(result.findings, [
    { kind: 'equivocation', start: T0, worker: alice.workerKey, versions: 3 },
  ])
  assert.equal(result.summary.equivocations, 1)
  const adjacent = crossCheck([0, 1, 2].map((i) => signedReport(alice, T0 + i * P).report))
  assert.deepEqual(adjacent.findings, [])
  const spanning = signedReport(alice, T0 - 5, 100, 3 * P).report // overlaps the first two only
  const chain = crossCheck([spanning, ...[0, 1, 3].map((i) => signedReport(alice, T0 + i * P).report)])
  assert.deepEqual(
    chain.findings.map((f) => (f.kind === 'equivocation' ? [f.start, f.versions] : [])),
    [[T0 - 5, 3]],
    'the spanning report and the two it covers; the later period stands',
  )
})

test('the valuation drops overlapping reports instead of counting their transit three times', () => {
  const valuation = valueReports([...shifted, honest], { from: T0 - P, to: T0 + 2 * P })
  const row = valuation.rows.find((r) => r.worker === alice.workerKey)
  assert.deepEqual([row?.reports, row?.excluded, row?.transitBytes], [0, 3, 0])
  assert.equal(valuation.rows.find((r) => r.worker === bob.workerKey)?.transitBytes, 5000)
  assert.deepEqual(valuation.equivocations, [{ worker: alice.workerKey, start: T0, versions: 3 }])
})

test('`prouter report verify` exits 1 on them, `report value` excludes them (built CLI, files)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-overlap-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'reports.json')
  const reports = [0, 1, 2].map((ms) => signedReport(alice, T0 + ms))
  await writeFile(file, JSON.stringify({ reports: [...reports, signedReport(bob, T0)] }))
  const run = promisify(execFile)
  const cli = ['dist/cli/main.js', 'report']
  await assert.rejects(run(process.execPath, [...cli, 'verify', '--file', file]), (err: { stderr: string }) =>
    /flagged 1/.test(err.stderr),
  )
  const period = `${new Date(T0 - P).toISOString()}/${new Date(T0 + 2 * P).toISOString()}`
  const { stdout, stderr } = await run(process.execPath, [
    ...cli,
    'value',
    '--file',
    file,
    '--period',
    period,
    '--format',
    'json',
  ])
  assert.match(stderr, new RegExp(`excluded ${alice.workerKey}: 3 different reports`))
  const rows = (JSON.parse(stdout) as { workers: Array<{ worker: string; share: number }> }).workers
  assert.deepEqual(
    rows.map((r) => [r.worker, r.share]),
    [
      [bob.workerKey, 1],
      [alice.workerKey, 0],
    ],
  )
})
