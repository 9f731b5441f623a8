/**
 * `prouter report verify|value` run as a process (the CLI's source through tsx) on report files written the
 * way the daemon writes them (`<dataDir>/reports/<start>-<workerKey>.json`); the period parser and the
 * registry input in-process. No router, no network.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { isPRouterError } from '../../../src/errors.js'
import type { SignedUsageReport } from '../../../src/metering/report.js'
import type { RegistryBackend, ReportQuery } from '../../../src/registry/backend.js'
import { signUsageReport } from '../../../src/registry/usage-reports.js'
import { silentLogger } from '../../../src/logger.js'
import { localStorePath } from '../../../src/registry/open.js'
import { openLocalStore } from '../../../src/registry/local/store.js'
import { parseInstant, parsePeriod } from '../../../src/cli/report-commands.js'
import { checkReports, reportsFromBackend } from '../../../src/cli/report-input.js'
import { tempDir } from '../../helpers/i2pd.js'
import {
  devKeys,
  exampleReports,
  PERIOD,
  T0,
  workerKeysOf,
  type DevKeys,
} from '../../helpers/usage-reports.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const MAIN = join(ROOT, 'src/cli/main.ts')
const HOUR = 6 * PERIOD
const HEADER =
  'worker,reports,excluded,coveredMs,transitBytes,peerBytesConfirmed,peerBytesClaimed,score,share'

interface Result {
  code: number
  stdout: string
  stderr: string
}

/** The CLI from source, with no PROUTER_* variable of the caller's environment leaking in. */
async function prouter(args: string[]): Promise<Result> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PROUTER_')))
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: clean,
      timeout: 60_000,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

/** The worked example, signed by each worker's dev key. */
function signedExample(keys: DevKeys): SignedUsageReport[] {
  const pairs = [keys.alice, keys.bob, keys.charlie]
  const k = workerKeysOf(keys)
  return exampleReports(k).map((r) => {
    const pair = pairs.find((p) => p.workerKey === r.workerKey)
    if (pair === undefined) throw new Error('no key')
    return signUsageReport(r, pair)
  })
}

/** A daemon-like reports folder holding `reports`; resolves with the folder and each file written. */
async function reportsDir(root: string, reports: readonly SignedUsageReport[]): Promise<[string, string[]]> {
  const dir = join(root, 'reports')
  await mkdir(dir, { recursive: true })
  const files: string[] = []
  for (const r of reports) {
    const file = join(dir, `${r.report.start}-${r.report.workerKey}.json`)
    await writeFile(file, `${JSON.stringify(r)}\n`)
    files.push(file)
  }
  return [dir, files]
}

/** Change one digit of Charlie's P1 report: transit 500000 → 500001. */
async function tamperCharlie(dir: string, charlie: string): Promise<string> {
  const file = join(dir, `${T0}-${charlie}.json`)
  const text = await readFile(file, 'utf8')
  assert.equal(text.split('"bytes":500000,').length, 2, 'the digit to change is there, once')
  await writeFile(file, text.replace('"bytes":500000,', '"bytes":500001,'))
  return file
}

test('report value: the CSV of the worked example, for the hour, the interval and the day', async (t) => {
  const keys = await devKeys()
  const [dir] = await reportsDir(await tempDir(t, 'prouter-report-'), signedExample(keys))
  const { alice, bob, charlie } = workerKeysOf(keys)
  // shares by hand in test/unit/metering/valuation.test.ts: 77/134, 21/67, 15/134
  const hour = [
    HEADER,
    `${alice},2,0,1140000,3000000,850000,920000,3850000,0.574627`,
    `${bob},2,0,1200000,1500000,600000,610000,2100000,0.313433`,
    `${charlie},1,0,600000,500000,250000,950000,750000,0.111940`,
    '',
  ].join('\n')
  const byHour = await prouter(['report', 'value', '--period', '2026-12-03T10', '--dir', dir])
  assert.equal(byHour.code, 0, byHour.stderr)
  assert.equal(byHour.stdout, hour)
  assert.equal(byHour.stderr, '')
  const interval = '2026-12-03T10:00:00Z/2026-12-03T11:00:00Z'
  const byInterval = await prouter(['report', 'value', '--period', interval, '--dir', dir, '--format', 'csv'])
  assert.equal(byInterval.stdout, hour)
  // the day also holds Alice's 11:00 report (transit 9 000 000): Alice 3 000 000 + 9 000 000 + 850 000 =
  // 12 850 000; Σ = 12 850 000 + 2 100 000 + 750 000 = 15 700 000: 257/314 = 0.818471, 21/157 = 0.133758,
  // 15/314 = 0.047771
  const byDay = await prouter(['report', 'value', '--period', '2026-12-03', '--dir', dir])
  assert.equal(
    byDay.stdout,
    [
      HEADER,
      `${alice},3,0,1740000,12000000,850000,920000,12850000,0.818471`,
      `${bob},2,0,1200000,1500000,600000,610000,2100000,0.133758`,
      `${charlie},1,0,600000,500000,250000,950000,750000,0.047771`,
      '',
    ].join('\n'),
  )
})

test('report value --format json with weights', async (t) => {
  const keys = await devKeys()
  const [dir] = await reportsDir(await tempDir(t, 'prouter-report-'), signedExample(keys))
  const args = ['--period', '2026-12-03T10', '--dir', dir, '--format', 'json']
  const r = await prouter(['report', 'value', ...args, '--transit-weight', '0', '--peer-weight', '2'])
  assert.equal(r.code, 0, r.stderr)
  const view = JSON.parse(r.stdout) as {
    period: { from: string; to: string; fromMs: number; toMs: number }
    weights: { transit: number; peer: number }
    totalScore: number
    workers: Array<{ worker: string; score: number; share: number }>
  }
  assert.deepEqual(view.period, {
    from: '2026-12-03T10:00:00.000Z',
    to: '2026-12-03T11:00:00.000Z',
    fromMs: T0,
    toMs: T0 + HOUR,
  })
  assert.deepEqual(view.weights, { transit: 0, peer: 2 })
  assert.equal(view.totalScore, 3_400_000)
  assert.deepEqual(
    view.workers.map((w) => [w.worker, w.score, w.share]),
    [
      [keys.alice.workerKey, 1_700_000, 1 / 2],
      [keys.bob.workerKey, 1_200_000, 6 / 17],
      [keys.charlie.workerKey, 500_000, 5 / 34],
    ],
  )
  const bad = await prouter(['report', 'value', ...args, '--peer-weight', '-1'])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /ERR_INVALID_OPTION: option --peer-weight/)
})

test('a report with one digit changed: verify exits 1 with ERR_REPORT_SIGNATURE, value skips it', async (t) => {
  const keys = await devKeys()
  const [dir] = await reportsDir(await tempDir(t, 'prouter-report-'), signedExample(keys))
  const { alice, bob, charlie } = workerKeysOf(keys)
  const tampered = await tamperCharlie(dir, charlie)

  const verify = await prouter([
    'report',
    'verify',
    '--dir',
    dir,
    '--from',
    '2026-12-03',
    '--to',
    '2026-12-04',
  ])
  assert.equal(verify.code, 1)
  const failed = `^ERR_REPORT_SIGNATURE +2026-12-03T10:00:00.000Z +${charlie} +${tampered}$`
  assert.match(verify.stdout, new RegExp(failed, 'm'))
  assert.match(verify.stdout, /ERR_REPORT_SIGNATURE: report of 0x[0-9a-f]{64} for 2026-12-03T10:00:00.000Z/)
  assert.match(verify.stdout, /^6 reports: 5 verified, 1 failed$/m)
  assert.equal(verify.stderr, 'prouter: report verify: 1 of 6 reports failed verification\n')

  // without Charlie's P1 nothing with Charlie is confirmed (the equivocation case of valuation.test.ts):
  // Alice 3 000 000 + 600 000 = 3 600 000, Bob 1 500 000 + 600 000 = 2 100 000: 12/19 and 7/19
  const value = await prouter(['report', 'value', '--period', '2026-12-03T10', '--dir', dir])
  assert.equal(value.code, 0, value.stderr)
  assert.equal(
    value.stdout,
    [
      HEADER,
      `${alice},2,0,1140000,3000000,600000,920000,3600000,0.631579`,
      `${bob},2,0,1200000,1500000,600000,610000,2100000,0.368421`,
      '',
    ].join('\n'),
  )
  assert.match(
    value.stderr,
    new RegExp(`^prouter: skipped ${tampered} \\(worker ${charlie}\\): ERR_REPORT_SIGNATURE: `, 'm'),
  )
})

test('report verify: a consistent set exits 0; the example flags Charlie over-claiming (--json)', async (t) => {
  const keys = await devKeys()
  const [dir, files] = await reportsDir(await tempDir(t, 'prouter-report-'), signedExample(keys))
  const { alice, charlie } = workerKeysOf(keys)
  const aliceAndBob = files.filter((f) => !f.includes(charlie)).flatMap((f) => ['--file', f])
  const ok = await prouter(['report', 'verify', ...aliceAndBob])
  assert.equal(ok.code, 0, ok.stderr)
  assert.equal(ok.stdout.match(/^OK +/gm)?.length, 5)
  assert.match(ok.stdout, /^5 reports: 5 verified, 0 failed$/m)
  assert.match(
    ok.stdout,
    /^cross-check \(tolerance 2% or 65536 bytes\): 4 pairs checked, 4 within tolerance, 0 flagged/m,
  )
  assert.equal(ok.stderr, '')

  const flagged = await prouter(['report', 'verify', '--dir', dir, '--json'])
  assert.equal(flagged.code, 1)
  assert.equal(flagged.stderr, 'prouter: report verify: the cross-check flagged 1\n')
  const view = JSON.parse(flagged.stdout) as {
    reports: Array<{ ok: boolean }>
    findings: unknown[]
    summary: Record<string, number>
  }
  assert.equal(view.reports.filter((r) => r.ok).length, 6)
  assert.deepEqual(view.findings, [
    {
      kind: 'mismatch',
      start: T0,
      end: T0 + PERIOD,
      from: charlie,
      to: alice,
      sent: 900_000,
      received: 200_000,
      difference: 700_000,
      limit: 65_536,
    },
  ])
  assert.deepEqual(
    [
      view.summary.read,
      view.summary.verified,
      view.summary.failed,
      view.summary.pairsChecked,
      view.summary.flagged,
    ],
    [6, 6, 0, 8, 1],
  )
})

test('the registry as input: reports listed for the window, verified, cross-checked and valued', async (t) => {
  const keys = await devKeys()
  const dir = join(await tempDir(t, 'prouter-report-'), 'registry')
  // stored under a clock two hours after the first period, the store's skew and age rules in mind
  const store = openLocalStore(
    { path: localStorePath(dir), now: () => T0 + 2 * HOUR },
    { logger: silentLogger() },
  )
  try {
    for (const r of signedExample(keys)) await store.reports.publish(r)
  } finally {
    await store.close()
  }
  const value = await prouter(['report', 'value', '--period', '2026-12-03T10', '--registry-dir', dir])
  assert.equal(value.code, 0, value.stderr)
  assert.deepEqual(
    value.stdout
      .split('\n')
      .slice(1, 4)
      .map((line) => line.split(',').at(-1)),
    ['0.574627', '0.313433', '0.111940'],
  )
  const window = ['--from', '2026-12-03T10:00:00Z', '--to', '2026-12-03T11:00:00Z', '--json']
  const verify = await prouter(['report', 'verify', '--registry-dir', dir, ...window])
  assert.equal(verify.code, 1, 'Charlie over-claims')
  const view = JSON.parse(verify.stdout) as { reports: Array<{ source: string; ok: boolean }> }
  assert.deepEqual(
    view.reports.map((r) => [r.source, r.ok]),
    [0, 1, 2, 3, 4].map((i) => [`registry[${i}]`, true]),
    "Alice's 11:00 report is outside the window",
  )
})

test('report verify: a {"reports": [...]} file and a window', async (t) => {
  const keys = await devKeys()
  const root = await tempDir(t, 'prouter-report-')
  const file = join(root, 'bundle.json')
  await writeFile(file, JSON.stringify({ reports: signedExample(keys) }))
  const p2 = ['--from', '2026-12-03T10:10:00Z', '--to', '2026-12-03T11:20:00+01:00']
  const r = await prouter(['report', 'verify', '--file', file, ...p2])
  assert.equal(r.code, 0, r.stderr)
  // P2 only: Alice's and Bob's (entries 1 and 3)
  assert.deepEqual(
    [...r.stdout.matchAll(/^OK .* (\S+)$/gm)].map((m) => m[1]),
    [`${file}#1`, `${file}#3`],
  )
  const missing = await prouter(['report', 'verify', '--file', join(root, 'none.json')])
  assert.equal(missing.code, 1)
  assert.match(missing.stderr, /ERR_INVALID_OPTION: option --file: cannot read .*none\.json/)
})

test('report verify: every --dir and --file counts; a malformed report in the first --dir fails', async (t) => {
  const keys = await devKeys()
  const root = await tempDir(t, 'prouter-report-')
  const [good, goodFiles] = await reportsDir(join(root, 'good'), signedExample(keys))
  const bad = join(root, 'bad')
  await mkdir(bad)
  await writeFile(join(bad, 'broken.json'), '{"report": {"workerKey": 1}}\n')
  const alone = await prouter(['report', 'verify', '--dir', bad])
  assert.equal(alone.code, 1)
  for (const dirs of [
    ['--dir', bad, '--dir', good],
    ['--dir', good, '--dir', bad],
  ]) {
    const r = await prouter(['report', 'verify', ...dirs, '--json'])
    assert.equal(r.code, 1, dirs.join(' '))
    const view = JSON.parse(r.stdout) as { reports: Array<{ source: string; ok: boolean; code?: string }> }
    assert.equal(view.reports.length, 7, 'six from the good folder, one from the bad')
    const broken = view.reports.find((c) => !c.ok)
    assert.deepEqual([broken?.source, broken?.code], [join(bad, 'broken.json'), 'ERR_REPORT_MALFORMED'])
  }
  const files = goodFiles.filter((f) => !f.includes(keys.charlie.workerKey)).flatMap((f) => ['--file', f])
  const both = await prouter(['report', 'verify', ...files, '--dir', bad])
  assert.equal(both.code, 1)
  assert.match(both.stdout, /^6 reports: 5 verified, 1 failed$/m)
})

test('report verify and value: no report found is ERR_REPORT_NONE, exit 1', async (t) => {
  const keys = await devKeys()
  const root = await tempDir(t, 'prouter-report-')
  const empty = join(root, 'empty')
  await mkdir(empty)
  const none = await prouter(['report', 'verify', '--dir', empty])
  assert.equal(none.code, 1)
  assert.match(none.stderr, /^prouter: ERR_REPORT_NONE: /m)
  // reports there, but none in the window
  const [dir] = await reportsDir(root, signedExample(keys))
  const outside = await prouter(['report', 'verify', '--dir', dir, '--dir', empty, '--from', '2026-12-04'])
  assert.equal(outside.code, 1)
  assert.match(outside.stderr, /^prouter: ERR_REPORT_NONE: /m)
  const value = await prouter(['report', 'value', '--period', '2026-12-04', '--dir', dir])
  assert.equal(value.code, 1)
  assert.match(value.stderr, /^prouter: ERR_REPORT_NONE: /m)
  assert.equal(value.stdout, '')
})

test('report value --period: anything but an interval, a UTC day or hour is ERR_INVALID_OPTION', async () => {
  const r = await prouter(['report', 'value', '--period', '2026-12-03T10:00', '--dir', '.'])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /^prouter: ERR_INVALID_OPTION: option --period: "2026-12-03T10:00" is no ISO 8601/m)
  assert.equal(r.stdout, '')
})

test('period parsing: accepted forms', () => {
  const day = Date.UTC(2026, 11, 3)
  assert.deepEqual(parsePeriod('2026-12-03'), { from: day, to: day + 24 * 3_600_000 })
  assert.deepEqual(parsePeriod('2026-12-03T10'), { from: T0, to: T0 + HOUR })
  assert.deepEqual(parsePeriod('2026-12-03T10:00:00Z/2026-12-03T11:00:00Z'), { from: T0, to: T0 + HOUR })
  assert.deepEqual(parsePeriod('2026-12-03T10:00Z/2026-12-03T10:10Z'), { from: T0, to: T0 + PERIOD })
  assert.deepEqual(parsePeriod('2026-12-03T11:00:00+01:00/2026-12-03T06:30:00.5-04:30'), {
    from: T0,
    to: T0 + HOUR + 500,
  })
  assert.deepEqual(parsePeriod('2024-02-29'), { from: Date.UTC(2024, 1, 29), to: Date.UTC(2024, 2, 1) })
  assert.equal(parseInstant('2026-12-03', '--from'), Date.UTC(2026, 11, 3))
  assert.equal(parseInstant('2026-12-03T10:00:00.250Z', '--from'), T0 + 250)
})

test('period parsing: rejections name --period', () => {
  const rejected = [
    '',
    'yesterday',
    '2026-12-3',
    '2026-12-03T10:00', // an instant, not a period
    '2026-12-03T10Z',
    '2026-12-03T24',
    '2026-02-29', // not a leap year
    '2026-13-01',
    '2026-12-32',
    '2026-12-03T10:00:00/2026-12-03T11:00:00', // no zone
    '2026-12-03T11:00:00Z/2026-12-03T10:00:00Z', // end before start
    '2026-12-03T10:00:00Z/2026-12-03T10:00:00Z', // empty
    '2026-12-03T10:00:00Z/PT1H', // durations are not taken
    '2026-12-03T10:00:00Z/2026-12-03T11:00:00Z/2026-12-03T12:00:00Z',
    '2026-12-03T10:60Z/2026-12-03T11:00Z',
    '2026-12-03T10:00+24:00/2026-12-03T11:00Z',
    '1969-12-31',
  ]
  for (const text of rejected) {
    assert.throws(
      () => parsePeriod(text),
      (err: unknown) => isPRouterError(err, 'ERR_INVALID_OPTION') && err.detail?.option === '--period',
      text,
    )
  }
  assert.throws(() => parseInstant('2026-12-03T10:00:00', '--to'), /option --to/)
})

test('the registry input: each stored report verified, a bad one failing with its code and worker', async () => {
  const keys = await devKeys()
  const [good, other] = signedExample(keys)
  assert.ok(good && other)
  const forged = { ...other, report: { ...other.report, createdAt: other.report.createdAt + 1 } }
  const queries: ReportQuery[] = []
  const backend = fakeBackend((q) => {
    queries.push(q)
    return [good, forged, { report: {}, signature: '0x' }] as SignedUsageReport[]
  })
  const raw = await reportsFromBackend(backend, { from: T0, to: T0 + HOUR })
  assert.deepEqual(queries, [{ from: T0, to: T0 + HOUR }])
  const checked = checkReports(raw)
  assert.deepEqual(
    checked.map((c) => (c.ok ? [c.source, 'OK'] : [c.source, c.code, c.workerKey])),
    [
      ['registry[0]', 'OK'],
      ['registry[1]', 'ERR_REPORT_SIGNATURE', other.report.workerKey],
      ['registry[2]', 'ERR_REPORT_MALFORMED', undefined],
    ],
  )
  // a window that misses the period drops a parsed report before its signature is checked
  assert.deepEqual(checkReports(raw.slice(0, 2), { from: T0 + HOUR }), [])
})

function fakeBackend(reports: (q: ReportQuery) => SignedUsageReport[]): RegistryBackend {
  const no = () => Promise.reject(new Error('not in this test'))
  return {
    kind: 'fake',
    publish: no,
    candidates: no,
    all: no,
    reports: { publish: no, list: (q) => Promise.resolve(reports(q)) },
    watch: no,
    close: () => Promise.resolve(),
  }
}
