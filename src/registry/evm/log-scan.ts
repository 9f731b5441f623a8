/**
 * Reading `BindingSubmitted` events over a block range, robust to what nodes refuse and to junk:
 *
 * - Adaptive ranges. When the node refuses a window (too many results, range too large, response too
 *   big: JSON-RPC -32005 or a message saying so, HTTP 413, or an answer over viem's 10 MiB body cap), the
 *   window is halved and the same blocks asked again, down to one block; the halved size becomes the
 *   window's ceiling for this scanner.
 *   A node that fails otherwise (unreachable, timeout) is not split against: its error goes up at once.
 * - Light answers. One answer is parsed in one piece (JSON.parse inside the HTTP client), so its size is
 *   what blocks the event loop: the first window is one block, a window doubles after an answer of little
 *   log data (under `LIGHT_BYTES`) and is halved after one of much (over `HEAVY_BYTES`), so a window of
 *   light blocks does not run on into a stretch of junk-filled ones. One block holds at most what its gas
 *   limit lets a spammer log (~1.2 MB of JSON for a 30M-gas block of 2 KiB events), so no answer is much
 *   bigger than that; decoding starts a turn after the parse.
 * - Raw logs, decoded here. `eth_getLogs` is called directly and each log's data (`bytes payload, bytes
 *   signature, address relayer`) decoded one by one, yielding to the event loop between slices and
 *   checking the signal, so thousands of 2 KiB junk events do not freeze the daemon.
 * Events come back in chain order, unverified.
 */
import {
  BaseError,
  HttpRequestError,
  ResponseBodyTooLargeError,
  RpcRequestError,
  decodeAbiParameters,
  encodeEventTopics,
  hexToBytes,
  numberToHex,
} from 'viem'
import type { Hex } from 'viem'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { isPRouterError } from '../../errors.js'
import type { BindingEvent } from '../backend.js'
import { createSlicer } from '../verify-newest.js'
import { workerRegistryAbi } from './artifact.js'
import type { EvmRpc } from './rpc.js'

export interface AdaptiveScan {
  rpc: EvmRpc
  address: `0x${string}`
  /** The largest window asked for (blocks). */
  maxBlockRange: bigint
  /** The window in use (blocks): starts at 1, follows the answers' sizes, never above `ceiling`. */
  window: bigint
  /** The largest window the node has not refused (blocks): `maxBlockRange` until a refusal. */
  ceiling: bigint
  /** How many windows were refused and split since the scanner was made (for tests and logs). */
  refusals: number
}

export interface ScanRange {
  fromBlock: bigint
  toBlock: bigint
  /** bytes32 hex of the worker key; every key when absent. */
  workerKey?: `0x${string}`
}

/** An answer with less log data than this (hex characters) doubles the window; over HEAVY_BYTES halves it. */
const LIGHT_BYTES = 64 * 1024
const HEAVY_BYTES = 256 * 1024

const EVENT_TOPIC = encodeEventTopics({ abi: workerRegistryAbi, eventName: 'BindingSubmitted' })[0]
const EVENT_DATA = [{ type: 'bytes' }, { type: 'bytes' }, { type: 'address' }] as const

export function createAdaptiveScan(rpc: EvmRpc, address: `0x${string}`, maxBlockRange: bigint): AdaptiveScan {
  return { rpc, address, maxBlockRange, window: 1n, ceiling: maxBlockRange, refusals: 0 }
}

export async function scanEvents(
  scan: AdaptiveScan,
  range: ScanRange,
  signal?: AbortSignal,
): Promise<BindingEvent[]> {
  const events: BindingEvent[] = []
  for (let from = range.fromBlock; from <= range.toBlock;) {
    const to = min(from + scan.window - 1n, range.toBlock)
    let logs: RawLog[]
    try {
      logs = await getLogs(scan, from, to, range.workerKey, signal)
    } catch (err) {
      if (to === from || !isRefusal(err)) throw err
      scan.ceiling = (to - from + 1n) / 2n
      scan.window = scan.ceiling
      scan.refusals++
      continue
    }
    await decodeInto(events, logs, signal)
    from = to + 1n
    const bytes = logs.reduce((sum, log) => sum + log.data.length, 0)
    if (bytes > HEAVY_BYTES && scan.window > 1n) scan.window /= 2n
    else if (bytes < LIGHT_BYTES) scan.window = min(scan.window * 2n, scan.ceiling)
  }
  return events
}

interface RawLog {
  data: Hex
  topics: readonly (Hex | null)[]
}

function getLogs(
  { rpc, address }: AdaptiveScan,
  fromBlock: bigint,
  toBlock: bigint,
  workerKey: `0x${string}` | undefined,
  signal: AbortSignal | undefined,
): Promise<RawLog[]> {
  const topics = workerKey === undefined ? [EVENT_TOPIC] : [EVENT_TOPIC, workerKey]
  const filter = { address, topics, fromBlock: numberToHex(fromBlock), toBlock: numberToHex(toBlock) }
  return rpc.call('eth_getLogs', () => rpc.client.request({ method: 'eth_getLogs', params: [filter] }), {
    signal,
  })
}

/**
 * Decode each log into `events`, yielding first (the answer was just parsed in the same turn) and between
 * slices; a log that does not decode is skipped.
 */
async function decodeInto(
  events: BindingEvent[],
  logs: readonly RawLog[],
  signal?: AbortSignal,
): Promise<void> {
  await nextTurn()
  const slice = createSlicer(signal)
  for (const log of logs) {
    await slice()
    const event = decodeLog(log)
    if (event !== undefined) events.push(event)
  }
}

function decodeLog(log: RawLog): BindingEvent | undefined {
  const key = log.topics[1]
  if (typeof key !== 'string' || log.topics[0] !== EVENT_TOPIC) return undefined
  try {
    const [payload, signature] = decodeAbiParameters(EVENT_DATA, log.data)
    return {
      workerKey: key.toLowerCase(),
      binding: { payload: hexToBytes(payload), signature: hexToBytes(signature) },
    }
  } catch {
    return undefined // not this contract's event layout: nothing a resolver could use
  }
}

const REFUSAL =
  /more than \d+|too many|too large|too big|exceed|limit|range|max(imum)? .*(results|logs|blocks)|response size/i

/**
 * Whether the node answered, but refused this window for its size: JSON-RPC -32005 (limit exceeded), or a
 * JSON-RPC error whose message says results, range or size, HTTP 413, or an answer over viem's 10 MiB cap.
 */
export function isRefusal(err: unknown): boolean {
  if (!isPRouterError(err, 'ERR_EVM_RPC') || !(err.cause instanceof BaseError)) return false
  if (err.cause.walk((e) => e instanceof ResponseBodyTooLargeError) !== null) return true // viem's 10 MiB cap
  const rpcError = err.cause.walk((e) => e instanceof RpcRequestError)
  if (rpcError instanceof RpcRequestError) {
    return rpcError.code === -32005 || REFUSAL.test(`${rpcError.details} ${rpcError.shortMessage}`)
  }
  const http = err.cause.walk((e) => e instanceof HttpRequestError)
  return http instanceof HttpRequestError && http.status === 413
}

/** A block as an index remembers it: its number and hash (a reorg changes the hash at a number). */
export interface BlockRef {
  number: bigint
  hash: Hex
}

/** The chain's head block, never from viem's cache. */
export async function headRef(rpc: EvmRpc, signal?: AbortSignal): Promise<BlockRef> {
  const block = await rpc.call('eth_getBlockByNumber', () => rpc.client.getBlock({ blockTag: 'latest' }), {
    signal,
  })
  return { number: block.number, hash: block.hash }
}

/** The hash of block `number` as the node has it now (undefined if it has no such block). */
export async function blockHash(rpc: EvmRpc, number: bigint, signal?: AbortSignal): Promise<Hex | undefined> {
  const block = await rpc.call(
    'eth_getBlockByNumber',
    () => rpc.client.getBlock({ blockNumber: number }).catch(() => undefined),
    { signal },
  )
  return block?.hash
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}
