/** The bulk benchmark's table: MiB/s each way, and each row's ratios to raw SAM with 1 stream and the same N. */
import { MIB } from '../../src/constants.js'
import type { Figure } from './measure.js'

export interface Row {
  path: string
  /** 'floor': direct on loopback; 'sam': raw SAM streams; 'daemon': through alice's and bob's daemons. */
  kind: 'floor' | 'sam' | 'daemon'
  streams: number
  bytes: number
  up: Figure
  down: Figure
}

export interface Header {
  date: string
  i2pd: string
  node: string
  cpus: number
  loadAverage: number
  hops: number
  sizeBytes: number
  singleStreamBytes: number
  networkUpMs: number
}

export function printTable(h: Header, rows: readonly Row[]): void {
  const single =
    h.singleStreamBytes === h.sizeBytes ? '' : `; 1-stream rows move ${mib(h.singleStreamBytes)} MiB`
  console.log(
    `\nBulk transfer, ${h.date}: i2pd ${h.i2pd}, ${h.hops} hop${h.hops === 1 ? '' : 's'} each way, ` +
      `${mib(h.sizeBytes)} MiB body${single}; Node ${h.node}, ${h.cpus} CPUs, load ${h.loadAverage.toFixed(1)} ` +
      `at start; network up in ${(h.networkUpMs / 1000).toFixed(0)} s. MiB/s, sha256 checked end to end.\n`,
  )
  console.log(
    '| path | MiB | upload MiB/s | download MiB/s | vs raw SAM ×1 (up / down) | vs raw SAM ×N (up / down) |',
  )
  console.log('|---|---|---|---|---|---|')
  const sam = (n: number): Row | undefined => rows.find((r) => r.kind === 'sam' && r.streams === n)
  for (const r of rows) {
    const one = r.kind === 'floor' || (r.kind === 'sam' && r.streams === 1) ? undefined : sam(1)
    const same = r.kind === 'daemon' ? sam(r.streams) : undefined
    console.log(
      `| ${r.path} | ${mib(r.bytes)} | ${rate(r.up)} | ${rate(r.down)} | ${ratios(r, one)} | ${ratios(r, same)} |`,
    )
  }
  const failed = rows.flatMap((r) => [r.up.error, r.down.error].filter((e) => e !== undefined))
  if (failed.length > 0) console.log(`\nfailures: ${failed.join('; ')}`)
}

function mib(bytes: number): string {
  return String(Math.round((bytes / MIB) * 100) / 100)
}

function rate(f: Figure): string {
  return f.error === undefined ? f.mibps.toFixed(2) : 'failed'
}

function ratios(r: Row, base: Row | undefined): string {
  if (base === undefined) return '-'
  const x = (a: Figure, b: Figure): string =>
    (a.error ?? b.error) === undefined ? `${(a.mibps / b.mibps).toFixed(2)}x` : '-'
  return `${x(r.up, base.up)} / ${x(r.down, base.down)}`
}
