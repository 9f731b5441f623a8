/**
 * `prouter report verify|value`: signed usage reports read from files, a folder or the registry
 * (report-input.ts), each verified before anything is believed.
 *
 * `verify` prints each report's result, then the cross-check of the verified ones (metering/cross-check.ts);
 * it exits 1, the reason on stderr, when a report fails or a finding is flagged. `value` prints the
 * valuation of a period (metering/valuation.ts) as CSV or JSON; reports that fail are skipped with a warning.
 * Both exit 1 with ERR_REPORT_NONE when no report at all is found for the window.
 */
import { Option } from 'commander'
import type { Command } from 'commander'
import { invalidOption } from '../errors.js'
import { crossCheck, DEFAULT_CROSS_CHECK_TOLERANCE, type CrossCheck } from '../metering/cross-check.js'
import type { CrossCheckFinding, CrossCheckTolerance } from '../metering/cross-check.js'
import { valueReports } from '../metering/valuation.js'
import { valuationCsv, valuationJson } from '../metering/valuation-format.js'
import { DAY, DEFAULT_VALUATION_PEER_WEIGHT, DEFAULT_VALUATION_TRANSIT_WEIGHT, HOUR } from '../constants.js'
import { contextOf } from './context.js'
import { table } from './format.js'
import { addInputOptions, checkReports, readReports, requireSome, verifiedOf } from './report-input.js'
import type { CheckedReport, InputOptions } from './report-input.js'
import type { Window } from '../metering/period.js'

interface VerifyOptions extends InputOptions {
  from?: string
  to?: string
  tolerance: string
  toleranceBytes: string
  json?: boolean
}

interface ValueOptions extends InputOptions {
  period: string
  format: 'csv' | 'json'
  transitWeight: string
  peerWeight: string
}

export function registerReportCommands(program: Command): void {
  const report = program.command('report').description('signed usage reports: verify, cross-check, value')
  addInputOptions(
    report
      .command('verify')
      .description('verify reports, cross-check the figures of every pair of workers; exit 1 on any problem')
      .option('--from <time>', 'only periods that overlap [from, to): ISO 8601 time with zone, or a UTC day')
      .option('--to <time>', 'end of that window (exclusive)')
      .option(
        '--tolerance <share>',
        'relative tolerance, 0..1',
        String(DEFAULT_CROSS_CHECK_TOLERANCE.relative),
      )
      .option(
        '--tolerance-bytes <n>',
        'absolute tolerance, bytes',
        String(DEFAULT_CROSS_CHECK_TOLERANCE.bytes),
      )
      .option('--json', 'one JSON document'),
  ).action(verify)
  addInputOptions(
    report
      .command('value')
      .description("each worker's share of the work in a period, from its verified reports")
      .requiredOption(
        '--period <period>',
        'ISO 8601 interval a/b, a UTC day 2026-12-03 or hour 2026-12-03T10',
      )
      .addOption(new Option('--format <format>', 'output').choices(['csv', 'json']).default('csv'))
      .option('--transit-weight <w>', 'weight of transit bytes', String(DEFAULT_VALUATION_TRANSIT_WEIGHT))
      .option('--peer-weight <w>', 'weight of confirmed peer bytes', String(DEFAULT_VALUATION_PEER_WEIGHT)),
  ).action(value)
}

async function verify(o: VerifyOptions, cmd: Command): Promise<void> {
  const window: Window = {
    ...(o.from === undefined ? {} : { from: parseInstant(o.from, '--from') }),
    ...(o.to === undefined ? {} : { to: parseInstant(o.to, '--to') }),
  }
  const tolerance: CrossCheckTolerance = {
    relative: decimal(o.tolerance, '--tolerance', 1),
    bytes: wholeBytes(o.toleranceBytes, '--tolerance-bytes'),
  }
  const checked = checkReports(await readReports(o, window, contextOf(cmd)), window)
  requireSome(checked, o)
  const verified = verifiedOf(checked)
  const result = crossCheck(
    verified.map((s) => s.report),
    tolerance,
  )
  const failed = checked.length - verified.length
  if (o.json === true) console.log(JSON.stringify(verifyView(checked, tolerance, result), null, 2))
  else printVerify(checked, tolerance, result)
  const problems = [
    ...(failed > 0 ? [`${failed} of ${checked.length} reports failed verification`] : []),
    ...(result.summary.flagged > 0 ? [`the cross-check flagged ${result.summary.flagged}`] : []),
  ]
  if (problems.length > 0) {
    process.stderr.write(`prouter: report verify: ${problems.join(', ')}\n`)
    process.exitCode = 1
  }
}

async function value(o: ValueOptions, cmd: Command): Promise<void> {
  const period = parsePeriod(o.period)
  const transitWeight = decimal(o.transitWeight, '--transit-weight')
  const peerWeight = decimal(o.peerWeight, '--peer-weight')
  const checked = checkReports(await readReports(o, period, contextOf(cmd)), period)
  requireSome(checked, o)
  for (const c of checked) {
    if (c.ok) continue
    const who = c.workerKey === undefined ? '' : ` (worker ${c.workerKey})`
    process.stderr.write(`prouter: skipped ${c.source}${who}: ${c.code}: ${c.message}\n`)
  }
  const valuation = valueReports(
    verifiedOf(checked).map((s) => s.report),
    { ...period, transitWeight, peerWeight },
  )
  for (const e of valuation.equivocations) {
    const at = new Date(e.start).toISOString()
    process.stderr.write(`prouter: excluded ${e.worker}: ${e.versions} different reports for ${at}\n`)
  }
  process.stdout.write(o.format === 'json' ? valuationJson(valuation) : valuationCsv(valuation))
}

// ---- times

const DAY_FORM = /^(\d{4})-(\d{2})-(\d{2})$/
const HOUR_FORM = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/
const INSTANT_FORM =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})$/

/**
 * `--period`: an ISO 8601 interval `<time>/<time>` (each with its zone, Z or ±hh:mm; end after start), a UTC
 * day `2026-12-03` or a UTC hour `2026-12-03T10`. Anything else is ERR_INVALID_OPTION naming --period.
 */
export function parsePeriod(text: string): { from: number; to: number } {
  const day = DAY_FORM.exec(text)
  if (day !== null) {
    const from = utc(day.slice(1))
    if (from !== undefined) return { from, to: from + DAY }
  }
  const hour = HOUR_FORM.exec(text)
  if (hour !== null) {
    const from = utc(hour.slice(1))
    if (from !== undefined) return { from, to: from + HOUR }
  }
  const [a, b, ...rest] = text.split('/')
  const from = a === undefined ? undefined : instant(a)
  const to = b === undefined ? undefined : instant(b)
  if (rest.length === 0 && from !== undefined && to !== undefined && to > from) return { from, to }
  throw invalidOption(
    '--period',
    `"${text.slice(0, 80)}" is no ISO 8601 interval (2026-12-03T10:00:00Z/2026-12-03T11:00:00Z, ` +
      'end after start), UTC day (2026-12-03) or UTC hour (2026-12-03T10)',
  )
}

/** `--from`/`--to`: an ISO 8601 time with its zone, or a UTC day (its midnight). */
export function parseInstant(text: string, flag: string): number {
  const day = DAY_FORM.exec(text)
  const at = day === null ? instant(text) : utc(day.slice(1))
  if (at === undefined) {
    throw invalidOption(flag, `"${text.slice(0, 80)}" is no ISO 8601 time with zone (…Z) or UTC day`)
  }
  return at
}

function instant(text: string): number | undefined {
  const m = INSTANT_FORM.exec(text)
  if (m === null) return undefined
  const zone = m[8] ?? 'Z'
  const local = utc([...m.slice(1, 7), (m[7] ?? '0').padEnd(3, '0')])
  if (local === undefined || zone === 'Z') return local
  const hours = Number(zone.slice(1, 3))
  const minutes = Number(zone.slice(4, 6))
  if (hours > 23 || minutes > 59) return undefined
  return local - (zone.startsWith('-') ? -1 : 1) * (hours * HOUR + minutes * 60_000)
}

/** Date.UTC of [year, month, day, hour?, minute?, second?, ms?] digits, undefined when out of range. */
function utc(parts: ReadonlyArray<string | undefined>): number | undefined {
  const [y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0] = parts.map((p) => Number(p ?? '0'))
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate()
  const valid = y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && d <= days && h <= 23 && mi <= 59 && s <= 59
  return valid ? Date.UTC(y, mo - 1, d, h, mi, s, ms) : undefined
}

// ---- numbers

function decimal(text: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d{1,15}(\.\d{1,15})?$/.test(text) ? Number(text) : NaN
  if (!(n >= 0 && n <= max))
    throw invalidOption(flag, `must be a number 0..${max}, got "${text.slice(0, 40)}"`)
  return n
}

function wholeBytes(text: string, flag: string): number {
  const n = /^\d{1,15}$/.test(text) ? Number(text) : NaN
  if (!(n >= 0)) throw invalidOption(flag, `must be a whole number of bytes, got "${text.slice(0, 40)}"`)
  return n
}

// ---- output

function verifyView(checked: readonly CheckedReport[], tolerance: CrossCheckTolerance, result: CrossCheck) {
  const reports = checked.map((c) =>
    c.ok
      ? { source: c.source, ok: true, workerKey: c.signed.report.workerKey, start: c.signed.report.start }
      : c,
  )
  const verified = verifiedOf(checked).length
  const summary = { ...result.summary, read: checked.length, verified, failed: checked.length - verified }
  return { reports, tolerance, findings: result.findings, summary }
}

function printVerify(
  checked: readonly CheckedReport[],
  tolerance: CrossCheckTolerance,
  result: CrossCheck,
): void {
  console.log(table(checked.map(reportRow)))
  for (const c of checked) if (!c.ok) console.log(`${c.source}: ${c.code}: ${c.message}`)
  if (result.findings.length > 0) console.log(`\n${table(result.findings.map(findingRow))}`)
  const s = result.summary
  const verified = verifiedOf(checked).length
  const limits = `${Number((tolerance.relative * 100).toFixed(6))}% or ${tolerance.bytes} bytes`
  console.log(
    `\n${count(checked.length, 'report')}: ${verified} verified, ${checked.length - verified} failed` +
      (s.duplicates > 0 ? ` (${count(s.duplicates, 'identical duplicate')} merged)` : '') +
      `\ncross-check (tolerance ${limits}): ${count(s.pairsChecked, 'pair')} checked, ${s.withinTolerance} ` +
      `within tolerance, ${s.flagged} flagged (${count(s.mismatches, 'mismatch', 'mismatches')}, ` +
      `${count(s.equivocations, 'equivocation')})`,
  )
}

/** OK or the failure code, the period and worker (when the report parses), where it came from. */
function reportRow(c: CheckedReport): Record<string, string | undefined> {
  const start = c.ok ? c.signed.report.start : c.start
  return {
    result: c.ok ? 'OK' : c.code,
    period: start === undefined ? undefined : new Date(start).toISOString(),
    worker: c.ok ? c.signed.report.workerKey : c.workerKey,
    source: c.source,
  }
}

function findingRow(f: CrossCheckFinding): Record<string, string | number> {
  const period = new Date(f.start).toISOString()
  if (f.kind === 'equivocation') {
    const workers = `${f.worker} (${f.versions} different signed reports)`
    return { finding: f.kind, period, sent: '', received: '', difference: '', limit: '', workers }
  }
  const unnamed = f.unnamedBy === undefined ? '' : ` (not named by ${f.unnamedBy})`
  return {
    finding: f.kind,
    period,
    sent: f.sent,
    received: f.received,
    difference: f.difference,
    limit: Math.floor(f.limit),
    workers: `${f.from} -> ${f.to}${unnamed}`,
  }
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}
