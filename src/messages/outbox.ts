/**
 * The sender's outbox on disk: a signed message is written here (one file per message, mode 0600, written
 * to a temporary file, fsynced, renamed, the folder fsynced) before pRuntime is told it was accepted, and
 * removed only once the receiver acknowledged it or refused it for good. After a restart `open()` hands
 * back every message still in it, to be sent again (the receiver de-duplicates by id). A file that does
 * not parse is renamed `*.corrupt` and logged, never deleted.
 *
 *   <dir>/<id>.msg   {"v":1,"id":"…","receiver":"0x…","created":<ms>,"wire":"<base64 signed message>"}
 */
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { MAX_OUTBOX_MESSAGES } from '../constants.js'
import { writeFileDurably } from '../files.js'
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'

export interface OutboxEntry {
  readonly id: string
  readonly receiver: string
  /** ms since the epoch when pRuntime handed the message over. */
  readonly created: number
  /** The signed message (envelope + payload). */
  readonly wire: Buffer
}

export interface Outbox {
  /** Create the folder (0700) if need be and return the messages left in it, oldest first. */
  open(): Promise<OutboxEntry[]>
  /** ERR_MESSAGE_OUTBOX_FULL when the outbox holds its limit (put checks it too). */
  checkRoom(): void
  /** Durable once resolved; ERR_MESSAGE_OUTBOX_FULL past the limit. */
  put(entry: OutboxEntry): Promise<void>
  remove(id: string): Promise<void>
  readonly size: number
}

const ID = /^[0-9a-f]{32}$/

export function createOutbox(
  init: { dir: string; maxEntries?: number },
  components: { logger: Logger },
): Outbox {
  const maxEntries = init.maxEntries ?? MAX_OUTBOX_MESSAGES
  const ids = new Set<string>()
  const log = components.logger.child({ component: 'outbox' })
  const path = (id: string): string => join(init.dir, `${id}.msg`)
  const checkRoom = (): void => {
    if (ids.size >= maxEntries) {
      throw new PRouterError('ERR_MESSAGE_OUTBOX_FULL', `the outbox holds ${ids.size} messages`)
    }
  }

  async function load(name: string): Promise<OutboxEntry | undefined> {
    const file = join(init.dir, name)
    try {
      return parseEntry(await readFile(file, 'utf8'), name.slice(0, -4))
    } catch (err) {
      log.warn({ err, file }, 'outbox file does not parse: kept as .corrupt')
      await rename(file, `${file}.corrupt`)
      return undefined
    }
  }

  return {
    async open() {
      await mkdir(init.dir, { recursive: true, mode: 0o700 })
      const names = (await readdir(init.dir)).filter((n) => n.endsWith('.msg'))
      const entries = (await Promise.all(names.map(load))).filter((e) => e !== undefined)
      for (const e of entries) ids.add(e.id)
      return entries.sort((a, b) => a.created - b.created)
    },
    checkRoom,
    async put(entry) {
      checkRoom()
      ids.add(entry.id)
      try {
        await writeFileDurably(path(entry.id), serialize(entry))
      } catch (err) {
        ids.delete(entry.id)
        throw err
      }
    },
    async remove(id) {
      if (!ID.test(id)) return
      ids.delete(id)
      await unlink(path(id)).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      })
    },
    get size() {
      return ids.size
    },
  }
}

function serialize(e: OutboxEntry): string {
  return JSON.stringify({
    v: 1,
    id: e.id,
    receiver: e.receiver,
    created: e.created,
    wire: e.wire.toString('base64'),
  })
}

function parseEntry(text: string, name: string): OutboxEntry {
  const j = JSON.parse(text) as Record<string, unknown>
  const ok =
    j.v === 1 &&
    j.id === name &&
    typeof j.id === 'string' &&
    ID.test(j.id) &&
    typeof j.receiver === 'string' &&
    Number.isSafeInteger(j.created) &&
    typeof j.wire === 'string'
  if (!ok) throw new Error('not an outbox entry')
  return {
    id: j.id as string,
    receiver: j.receiver as string,
    created: j.created as number,
    wire: Buffer.from(j.wire as string, 'base64'),
  }
}
