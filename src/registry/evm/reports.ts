/**
 * Usage reports on the WorkerRegistry contract: `submitReport` logs a report's canonical JSON and signature
 * in `ReportSubmitted` (indexed by worker key and period start); reading is scanning those events.
 *
 * The contract logs a report of a period only in blocks whose time is within [end − REPORT_MAX_SKEW_MS,
 * end + REPORT_MAX_AGE_MS], and a period is at most MAX_PERIOD_MS long: the reports of periods overlapping
 * [from, to) can only be in blocks timed [from − skew, to + MAX_PERIOD_MS + REPORT_MAX_AGE_MS]. The scan
 * finds those blocks by a binary search on block times (log2(blocks) header reads) and reads logs there only.
 *
 * What comes back is unverified, as the backend interface says; what is dropped here is only what cannot be
 * one worker's report of the logged period: JSON that does not parse as a report, or whose workerKey, start
 * or end differ from the event's (a reader's window relies on the contract's checks of that very period).
 * Exact repeats (same report, same signature) are listed once.
 */
import { bytesToHex, hexToBytes } from 'viem'
import { isPRouterError } from '../../errors.js'
import { canonicalReport, parseSignedUsageReport } from '../../metering/report.js'
import type { SignedUsageReport } from '../../metering/report.js'
import { overlaps } from '../../metering/period.js'
import type { ReportQuery } from '../backend.js'
import { workerRegistryAbi } from './artifact.js'
import type { LogScan } from './logs.js'
import { headBlock } from './logs.js'
import type { EvmRpc } from './rpc.js'
import { sendCall, type SubmitReceipt, type SubmitTarget } from './submit.js'

/** The contract's bounds (contracts/WorkerRegistry.sol), in ms. */
export const REPORT_MAX_SKEW_MS = 10 * 60_000
export const REPORT_MAX_AGE_MS = 7 * 24 * 3_600_000
export const MAX_PERIOD_MS = 24 * 3_600_000
export const MAX_REPORT_BYTES_ON_CHAIN = 65_536

type Hex = `0x${string}`

/** The `submitReport` arguments for a signed report. */
export function reportArgs(signed: SignedUsageReport): readonly [Hex, bigint, bigint, Hex, Hex] {
  const { report } = signed
  const json = new TextEncoder().encode(canonicalReport(report))
  return [
    report.workerKey as Hex,
    BigInt(report.start),
    BigInt(report.end),
    bytesToHex(json),
    signed.signature as Hex,
  ]
}

/** Send `submitReport` and wait for its receipt; the contract's refusals come back as ERR_EVM_TX. */
export function submitReport(
  target: SubmitTarget,
  signed: SignedUsageReport,
  signal?: AbortSignal,
): Promise<SubmitReceipt> {
  const { relayer, address } = target
  const write = (): Promise<Hex> =>
    relayer.wallet.writeContract({
      address,
      abi: workerRegistryAbi,
      functionName: 'submitReport',
      args: reportArgs(signed),
      account: relayer.account,
      chain: null,
    })
  return sendCall(target, 'submitReport', write, signal)
}

/** The reports logged from `fromBlock` on whose period overlaps the query's window, by start then worker. */
export async function scanReports(
  scan: LogScan,
  fromBlock: bigint,
  query: ReportQuery,
  signal?: AbortSignal,
): Promise<SignedUsageReport[]> {
  const head = await headBlock(scan.rpc, signal)
  const window = {
    ...(query.from === undefined ? {} : { from: query.from }),
    ...(query.to === undefined ? {} : { to: query.to }),
  }
  const first =
    query.from === undefined
      ? fromBlock
      : await blockAtTime(scan.rpc, query.from - REPORT_MAX_SKEW_MS, fromBlock, head, signal)
  const lastTime = query.to === undefined ? undefined : query.to + MAX_PERIOD_MS + REPORT_MAX_AGE_MS
  const last =
    lastTime === undefined ? head : (await blockAtTime(scan.rpc, lastTime + 1, first, head, signal)) - 1n
  const seen = new Set<string>()
  const out: SignedUsageReport[] = []
  for (let from = first; from <= last; from += scan.maxBlockRange) {
    const to = from + scan.maxBlockRange - 1n < last ? from + scan.maxBlockRange - 1n : last
    for (const signed of await reportWindow(scan, from, to, query.workerKey as Hex | undefined, signal)) {
      const identity = `${signed.signature}${canonicalReport(signed.report)}`
      if (!overlaps(signed.report, window) || seen.has(identity)) continue
      seen.add(identity)
      out.push(signed)
    }
  }
  return out.sort(
    (a, b) =>
      a.report.start - b.report.start ||
      (a.report.workerKey < b.report.workerKey ? -1 : a.report.workerKey > b.report.workerKey ? 1 : 0),
  )
}

async function reportWindow(
  { rpc, address }: LogScan,
  fromBlock: bigint,
  toBlock: bigint,
  workerKey: Hex | undefined,
  signal: AbortSignal | undefined,
): Promise<SignedUsageReport[]> {
  const logs = await rpc.call(
    'eth_getLogs',
    () =>
      rpc.client.getContractEvents({
        address,
        abi: workerRegistryAbi,
        eventName: 'ReportSubmitted',
        ...(workerKey === undefined ? {} : { args: { workerKey } }),
        fromBlock,
        toBlock,
        strict: true,
      }),
    { signal },
  )
  return logs.flatMap(({ args }) => {
    const signed = decodeReport(args.report, args.signature)
    const r = signed?.report
    const matches =
      r !== undefined &&
      r.workerKey === args.workerKey.toLowerCase() &&
      BigInt(r.start) === args.start &&
      BigInt(r.end) === args.end
    return matches ? [signed as SignedUsageReport] : []
  })
}

/** The logged JSON and signature as a signed report, or undefined when it does not parse as one. */
function decodeReport(report: Hex, signature: Hex): SignedUsageReport | undefined {
  try {
    const json = new TextDecoder('utf-8', { fatal: true }).decode(hexToBytes(report))
    return parseSignedUsageReport({ report: JSON.parse(json) as unknown, signature })
  } catch (err) {
    if (err instanceof SyntaxError || err instanceof TypeError || isPRouterError(err)) return undefined
    throw err
  }
}

/** The first block in [low, high + 1] whose time (ms) is at least `timeMs`; high + 1 when none is. */
async function blockAtTime(
  rpc: EvmRpc,
  timeMs: number,
  low: bigint,
  high: bigint,
  signal: AbortSignal | undefined,
): Promise<bigint> {
  let lo = low
  let hi = high + 1n
  while (lo < hi) {
    const mid = (lo + hi) / 2n
    const block = await rpc.call('eth_getBlockByNumber', () => rpc.client.getBlock({ blockNumber: mid }), {
      signal,
    })
    if (Number(block.timestamp) * 1000 >= timeMs) hi = mid
    else lo = mid + 1n
  }
  return lo
}
