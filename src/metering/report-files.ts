/**
 * The daemon's metering files, in its data folder:
 *
 *   metering/open-period.json         the open period's counts so far, the last router reading, the reports
 *                                     not yet published; rewritten every checkpoint and at stop
 *   reports/<start>-<workerKey>.json  one signed report per closed period, written once (`prouter report
 *                                     verify --dir` reads this folder)
 *
 * Writes are atomic (files.ts). A file that does not parse is moved aside (`.corrupt-<time>`), never
 * overwritten or silently dropped, and the caller learns it with ERR_METERING_STATE.
 */
import { mkdir, readdir, rename } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { PRouterError } from '../errors.js'
import { readIfExists, writeFileAtomic } from '../files.js'
import {
  parseSignedUsageReport,
  parseUsageReport,
  type SignedUsageReport,
  type UsageReport,
} from './report.js'
import type { RouterReading } from './router-meter.js'
import { overlaps } from './period.js'
import { DAY } from '../constants.js'

export interface Checkpoint {
  /** The open period's counts so far, as a report (createdAt: when it was saved). */
  open: UsageReport
  /** The last router reading, to count from after a daemon restart. */
  routerMark: RouterReading | undefined
  /** Starts of closed periods whose report the registry has not taken yet. */
  unpublished: number[]
}

export interface ReportFiles {
  /** Where the signed reports are. */
  readonly reportsDir: string
  loadCheckpoint(): Promise<Checkpoint | undefined>
  saveCheckpoint(c: Checkpoint): Promise<void>
  writeReport(r: SignedUsageReport): Promise<string>
  readReport(start: number): Promise<SignedUsageReport | undefined>
  /** Reports whose periods overlap [from, to), oldest first. */
  listReports(query?: { from?: number; to?: number }): Promise<SignedUsageReport[]>
}

const MODE = 0o600

export function reportFiles(dataDir: string, workerKey: string): ReportFiles {
  const dir = join(dataDir, 'metering')
  const checkpointFile = join(dir, 'open-period.json')
  const reportsDir = join(dataDir, 'reports')
  const reportFile = (start: number): string => join(reportsDir, `${start}-${workerKey}.json`)
  return {
    reportsDir,
    async loadCheckpoint() {
      const text = await readIfExists(checkpointFile)
      if (text === undefined) return undefined
      return parseOrSetAside(checkpointFile, () => parseCheckpoint(text, workerKey))
    },
    async saveCheckpoint(c) {
      await mkdir(dir, { recursive: true, mode: 0o700 })
      await writeFileAtomic(checkpointFile, `${JSON.stringify(c)}\n`, MODE)
    },
    async writeReport(r) {
      await mkdir(reportsDir, { recursive: true, mode: 0o700 })
      const file = reportFile(r.report.start)
      await writeFileAtomic(file, `${JSON.stringify(r)}\n`, MODE)
      return file
    },
    async readReport(start) {
      const file = reportFile(start)
      const text = await readIfExists(file)
      return text === undefined ? undefined : parseOrSetAside(file, () => parseSignedUsageReport(text))
    },
    async listReports(query = {}) {
      // a period is at most a day long: files whose name's start rules them out are not read
      const names = (await readdir(reportsDir).catch(() => [] as string[])).filter(
        (n) => REPORT_NAME.test(n) && overlaps({ start: startOf(n), end: startOf(n) + DAY }, query),
      )
      const out: SignedUsageReport[] = []
      for (const name of names.sort(byStart)) {
        const text = await readIfExists(join(reportsDir, name))
        if (text === undefined) continue
        const r = await parseOrSetAside(join(reportsDir, name), () => parseSignedUsageReport(text)).catch(
          () => undefined,
        )
        if (r?.report.workerKey === workerKey && overlaps(r.report, query)) out.push(r) // ours only
      }
      return out
    },
  }
}

function parseCheckpoint(text: string, workerKey: string): Checkpoint {
  const o = JSON.parse(text) as { open?: unknown; routerMark?: unknown; unpublished?: unknown }
  const open = parseUsageReport(o.open)
  if (open.workerKey !== workerKey)
    throw new Error(`the checkpoint is ${open.workerKey}'s, not this worker's`)
  const unpublished = Array.isArray(o.unpublished) ? o.unpublished.filter(Number.isSafeInteger) : []
  return { open, routerMark: routerReading(o.routerMark), unpublished: unpublished as number[] }
}

function routerReading(value: unknown): RouterReading | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const r = value as Record<string, unknown>
  const keys = [
    'at',
    'uptimeMs',
    'sentBytes',
    'receivedBytes',
    'participatingTunnels',
    'inboundBps',
    'outboundBps',
  ]
  if (!keys.every((k) => typeof r[k] === 'number' && Number.isFinite(r[k]))) return undefined
  if (r.transitBytes !== undefined && typeof r.transitBytes !== 'number') return undefined
  return value as RouterReading
}

async function parseOrSetAside<T>(file: string, parse: () => T): Promise<T> {
  try {
    return parse()
  } catch (cause) {
    const aside = `${file}.corrupt-${Date.now()}-${randomBytes(3).toString('hex')}`
    await rename(file, aside)
    throw new PRouterError('ERR_METERING_STATE', `${file} does not parse: moved to ${aside}`, { cause })
  }
}

const REPORT_NAME = /^\d+-0x[0-9a-f]{64}\.json$/

function startOf(name: string): number {
  return Number(name.split('-')[0])
}

function byStart(a: string, b: string): number {
  return startOf(a) - startOf(b)
}
