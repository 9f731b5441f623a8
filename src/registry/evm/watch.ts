/**
 * `watch` on the EVM registry: poll the head, read the events of the blocks not seen yet, hand them on.
 * Starts at the head as it is when called (earlier events are `all()`'s job). A failing node is logged
 * once per outage and retried every poll until the signal aborts; the watch then resolves.
 * Reorgs are not tracked: an event reported from a block that is later dropped is still a signed binding,
 * and the resolver believes it only if its signature verifies, never because it was on chain.
 */
import { PRouterError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import { sleep } from '../../signals.js'
import type { BindingEvent } from '../backend.js'
import { headBlock } from './logs.js'
import { scanEvents } from './log-scan.js'
import type { AdaptiveScan } from './log-scan.js'

export interface WatchTarget {
  scan: AdaptiveScan
  pollInterval: number
  log: Logger
}

export async function pollBindings(
  target: WatchTarget,
  onEvent: (event: BindingEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const head = await headBlock(target.scan.rpc, signal).catch((err: unknown) => {
    if (signal.aborted) return undefined
    throw err
  })
  if (head === undefined) return
  let next = head + 1n
  let failing = false
  while (await pause(target.pollInterval, signal)) {
    let batch: { events: BindingEvent[]; next: bigint }
    try {
      batch = await newEvents(target, next, signal)
    } catch (err) {
      if (signal.aborted) return
      // code and message only: viem's error (the cause) spells out the node's URL unredacted
      if (!failing) target.log.warn(describe(err), 'watch: polling the EVM node failed; retrying')
      failing = true
      continue
    }
    if (failing) target.log.info('watch: the EVM node answers again')
    failing = false
    next = batch.next
    for (const event of batch.events) onEvent(event)
  }
}

async function newEvents(
  target: WatchTarget,
  next: bigint,
  signal: AbortSignal,
): Promise<{ events: BindingEvent[]; next: bigint }> {
  const head = await headBlock(target.scan.rpc, signal)
  if (head < next) return { events: [], next }
  const events = await scanEvents(target.scan, { fromBlock: next, toBlock: head }, signal)
  return { events, next: head + 1n }
}

function describe(err: unknown): { code?: string; message: string } {
  return err instanceof PRouterError ? { code: err.code, message: err.message } : { message: String(err) }
}

/** Sleep one poll interval; false once the signal has aborted. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false
  await sleep(ms, signal).catch(() => undefined)
  return !signal.aborted
}
