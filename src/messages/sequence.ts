/**
 * The sender's sequence numbers for ordered messages: one counter per receiver, kept on disk
 * (`<file>`: `{"v":1,"next":{"0x…":n}}`, mode 0600, written durably before a number is handed out), so a
 * restart goes on where the last run stopped and a receiver's service sees each sender's ordered messages
 * numbered 1, 2, 3 … for good. A number taken by a message that never reached the outbox (a crash in
 * between, a full outbox) is a gap, never a repeat. A file that does not parse stops ordered sends with
 * ERR_MESSAGE_SEQUENCE rather than numbering from 1 again.
 */
import { PRouterError } from '../errors.js'
import { readIfExists, writeFileDurably } from '../files.js'

export interface Sequences {
  /** The next number for `receiver` (1 for the first), durable once resolved. */
  take(receiver: string): Promise<number>
}

export function createSequences(init: { file: string }): Sequences {
  let next: Map<string, number> | undefined
  let queue: Promise<unknown> = Promise.resolve()

  const load = async (): Promise<Map<string, number>> => {
    next ??= parse(await readIfExists(init.file), init.file)
    return next
  }
  const take = async (receiver: string): Promise<number> => {
    const counters = await load()
    const n = counters.get(receiver) ?? 1
    counters.set(receiver, n + 1)
    try {
      await writeFileDurably(init.file, JSON.stringify({ v: 1, next: Object.fromEntries(counters) }))
    } catch (err) {
      next = undefined // what is on disk is what counts: read it again next time
      throw err
    }
    return n
  }
  return {
    take(receiver) {
      const turn = queue.then(() => take(receiver)) // one write at a time, numbers in call order
      queue = turn.catch(() => undefined)
      return turn
    },
  }
}

function parse(text: string | undefined, file: string): Map<string, number> {
  if (text === undefined) return new Map()
  try {
    const j = JSON.parse(text) as { v?: unknown; next?: unknown }
    if (j.v !== 1 || typeof j.next !== 'object' || j.next === null) throw new Error('not a sequence file')
    const entries = Object.entries(j.next as Record<string, unknown>)
    if (
      !entries.every(([k, n]) => /^0x[0-9a-f]{64}$/.test(k) && Number.isSafeInteger(n) && (n as number) >= 1)
    ) {
      throw new Error('a counter is not a whole number >= 1')
    }
    return new Map(entries as Array<[string, number]>)
  } catch (err) {
    throw new PRouterError('ERR_MESSAGE_SEQUENCE', `${file} does not parse: ordered messages are refused`, {
      cause: err,
    })
  }
}
