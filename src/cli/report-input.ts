/**
 * Where `prouter report …` reads signed usage reports from, and their verification: `--file` (repeatable; a
 * signed report, or `{ "reports": [...] }`), `--dir` (repeatable; every *.json in the folder, not recursive —
 * a daemon's `<dataDir>/reports/<start>-<workerKey>.json`), or, with neither, the registry chosen with the
 * registry flags (`backend.reports({ from, to })`). Every --file and --dir given counts. Nothing is believed
 * before verifyUsageReport.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { invalidOption, isPRouterError, PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { parseSignedUsageReport, type SignedUsageReport } from '../metering/report.js'
import { overlaps, type Window } from '../metering/period.js'
import type { RegistryBackend, ReportQuery } from '../registry/backend.js'
import { reportStorage } from '../registry/backend.js'
import { openRegistryBackend } from '../registry/open.js'
import { verifyUsageReport } from '../registry/usage-reports.js'
import type { RegistryOptions } from './registry-options.js'
import { addRegistryOptions, registrySpec } from './registry-options.js'

/** The input flags: files, a folder, or (with neither) the registry flags. */
export interface InputOptions extends RegistryOptions {
  file: string[]
  dir: string[]
}

/** One report as read, before verification; `source` names the file (`#i` inside a list) or registry entry. */
export interface RawReport {
  source: string
  value: unknown
}

export type CheckedReport =
  | { source: string; ok: true; signed: SignedUsageReport }
  | { source: string; ok: false; code: string; message: string; workerKey?: string; start?: number }

/** The reports named by the input flags, unverified; from the registry, those overlapping `window`. */
export async function readReports(
  o: InputOptions,
  window: Window,
  components: { logger: Logger },
): Promise<RawReport[]> {
  if (o.file.length === 0 && o.dir.length === 0) {
    const backend = await openRegistryBackend(await registrySpec(o), components)
    try {
      return await reportsFromBackend(backend, window)
    } finally {
      await backend.close()
    }
  }
  const files: Array<[string, string]> = o.file.map((f) => [f, '--file'])
  for (const dir of o.dir) files.push(...(await jsonFiles(dir)).map((f): [string, string] => [f, '--dir']))
  const read: RawReport[] = []
  for (const [file, flag] of files) read.push(...entriesOf(file, await readText(file, flag)))
  return read
}

/** The backend's reports for the query, unverified, each named `registry[i]`. */
export async function reportsFromBackend(backend: RegistryBackend, query: ReportQuery): Promise<RawReport[]> {
  const stored = await reportStorage(backend).list(query) // ERR_REGISTRY_UNSUPPORTED where none are kept
  return stored.map((value, i) => ({ source: `registry[${i}]`, value }))
}

/** A file's reports: the file itself, or each of its `reports` (named `file#i`); bad JSON stays text. */
export function entriesOf(source: string, text: string): RawReport[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return [{ source, value: text }] // verification names it ERR_REPORT_MALFORMED
  }
  if (typeof value === 'object' && value !== null && 'reports' in value && Array.isArray(value.reports)) {
    return value.reports.map((v: unknown, i) => ({ source: `${source}#${i}`, value: v }))
  }
  return [{ source, value }]
}

async function jsonFiles(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true })
    return entries
      .filter((e) => e.isFile() && e.name.endsWith('.json'))
      .map((e) => join(dir, e.name))
      .sort()
  } catch (err) {
    throw invalidOption('--dir', `cannot read ${dir}: ${(err as Error).message}`)
  }
}

async function readText(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw invalidOption(flag, `cannot read ${file}: ${(err as Error).message}`)
  }
}

/**
 * Verify each report; a report that parses but whose period does not overlap the window is dropped before
 * its signature is checked. A failure keeps its code, message and, when the report parses, its worker and
 * period start.
 */
export function checkReports(raw: readonly RawReport[], window: Window = {}): CheckedReport[] {
  const out: CheckedReport[] = []
  for (const { source, value } of raw) {
    let parsed: { workerKey: string; start: number } | undefined
    try {
      const { report } = parseSignedUsageReport(value)
      parsed = { workerKey: report.workerKey, start: report.start }
      if (!overlaps(report, window)) continue
      out.push({ source, ok: true, signed: verifyUsageReport(value) })
    } catch (err) {
      if (!isPRouterError(err)) throw err
      out.push({ source, ok: false, code: err.code, message: err.message, ...parsed })
    }
  }
  return out
}

/** --file, --dir (each repeatable, every one given counts) and the registry flags. */
export function addInputOptions(cmd: Command): Command {
  return addRegistryOptions(
    cmd
      .option('--file <file>', 'a signed report, or {"reports": [...]} (repeatable)', collect, [])
      .option(
        '--dir <dir>',
        "every *.json in this folder (a daemon's <dataDir>/reports), not recursive (repeatable)",
        collect,
        [],
      ),
  )
}

function collect(value: string, all: string[]): string[] {
  return [...all, value]
}

/** ERR_REPORT_NONE when nothing was read (or nothing overlaps the window): checking nothing is no pass. */
export function requireSome(checked: readonly CheckedReport[], o: InputOptions): void {
  if (checked.length > 0) return
  const where =
    o.file.length + o.dir.length === 0
      ? 'the registry'
      : [...o.file.map((f) => `--file ${f}`), ...o.dir.map((d) => `--dir ${d}`)].join(', ')
  throw new PRouterError('ERR_REPORT_NONE', `no usage report found in ${where} for the window asked`)
}

export function verifiedOf(checked: readonly CheckedReport[]): SignedUsageReport[] {
  return checked.flatMap((c) => (c.ok ? [c.signed] : []))
}
