/**
 * One size-capped LMDB table, shared by the RouterInfo and usage-report stores: records of untrusted,
 * verified data that expire, each owned by one key (a router id, a worker key), under four caps — how many
 * records and how many bytes in all, and how many records and bytes per owner — so that no publisher, and
 * no number of them, can grow the store without bound.
 *
 *   <name>           key -> { data, owner, until, bytes, storedAt }   (key order is the listing order)
 *   <name>.by-owner  `<owner>/<key>` -> bytes                           (an owner's records, and their sizes)
 *   <name>.totals    'bytes' -> total bytes held
 *
 * Every write (`put`, `remove`) must run inside the environment's write transaction, where the caller also
 * applies its own rules: the caps, the per-owner index and the totals then change together or not at all.
 * When a cap would be exceeded, expired records (by the caller's `isExpired(until, at)`) are evicted first —
 * the owner's own when an owner cap is hit — and only if that is not enough is the record refused:
 * ERR_REGISTRY_FULL for the store's caps, ERR_REGISTRY_QUOTA for an owner's.
 */
import type { Database, RangeOptions, RootDatabase } from 'lmdb'
import type { Logger } from '../../logger.js'
import { PRouterError } from '../../errors.js'

export interface CappedRecord {
  /** The stored data: canonical JSON text or exact bytes. */
  data: string | Uint8Array
  owner: string
  /** The instant the caller's expiry rule reads (a report's period end, a RouterInfo's publication). */
  until: number
  /** Size counted against the caps (the data's length). */
  bytes: number
  storedAt: number
}

export interface StoreCaps {
  maxRecords: number
  maxBytes: number
  maxPerOwner: number
  maxBytesPerOwner: number
}

export interface CappedStoreInit {
  /** Name of the LMDB named database (the index and totals take `<name>.by-owner`, `<name>.totals`). */
  name: string
  /** What the records are, for messages and logs: 'usage reports', 'RouterInfos'. */
  what: string
  caps: StoreCaps
  isExpired: (until: number, at: number) => boolean
  /** Where expired records can be, to bound the eviction scan (default: every record). */
  expiredRange?: (at: number) => RangeOptions
}

export interface CappedStore {
  get(key: string): CappedRecord | undefined
  /** In a write transaction: make room if needed (or throw), then write; replacing a key is allowed. */
  put(key: string, record: CappedRecord, at: number): void
  /** In a write transaction. */
  remove(key: string): void
  /** Records in key order, from `range`. */
  range(range?: RangeOptions): Iterable<{ key: string; value: CappedRecord }>
  /** The keys of an owner's records, in key order. */
  keysOf(owner: string): string[]
  count(): number
}

const TOTAL = 'bytes'

export function openCappedStore<V>(
  root: RootDatabase<V, string>,
  init: CappedStoreInit,
  log: Logger,
): CappedStore {
  const db: Database<CappedRecord, string> = root.openDB<CappedRecord, string>({ name: init.name })
  const byOwner = root.openDB<number, string>({ name: `${init.name}.by-owner` })
  const totals = root.openDB<number, string>({ name: `${init.name}.totals` })
  const { caps } = init
  const ownerRange = (owner: string): RangeOptions => ({ start: `${owner}/`, end: `${owner}0` }) // '0' follows '/'

  const totalBytes = (): number => totals.get(TOTAL) ?? 0
  const ownerUse = (owner: string): { count: number; bytes: number } => {
    let count = 0
    let bytes = 0
    for (const { value } of byOwner.getRange(ownerRange(owner))) {
      count++
      bytes += value
    }
    return { count, bytes }
  }

  const remove = (key: string): void => {
    const held = db.get(key)
    if (held === undefined) return
    void db.remove(key)
    void byOwner.remove(`${held.owner}/${key}`)
    void totals.put(TOTAL, totalBytes() - held.bytes)
  }

  const evict = (keys: Iterable<string>, at: number): number => {
    let evicted = 0
    for (const key of keys) {
      const held = db.get(key)
      if (held === undefined || !init.isExpired(held.until, at)) continue
      remove(key)
      evicted++
    }
    if (evicted > 0) log.info({ evicted }, `expired ${init.what} evicted`)
    return evicted
  }

  /** Room for `record` once `replaced` (the record it overwrites, if any) is gone; throws otherwise. */
  const makeRoom = (
    key: string,
    record: CappedRecord,
    replaced: CappedRecord | undefined,
    at: number,
  ): void => {
    const fits = (): boolean => {
      const own = ownerUse(record.owner)
      const sameOwner = replaced !== undefined && replaced.owner === record.owner
      const ownCount = own.count + 1 - (sameOwner ? 1 : 0)
      const ownBytes = own.bytes + record.bytes - (sameOwner ? replaced.bytes : 0)
      return ownCount <= caps.maxPerOwner && ownBytes <= caps.maxBytesPerOwner
    }
    if (!fits()) evict(byOwnerKeys(record.owner), at)
    if (!fits()) throw quota(record.owner, init, caps)
    const storeFits = (): boolean =>
      db.getCount() + (replaced === undefined ? 1 : 0) <= caps.maxRecords &&
      totalBytes() + record.bytes - (replaced?.bytes ?? 0) <= caps.maxBytes
    if (!storeFits()) {
      const scan = init.expiredRange?.(at) ?? {}
      evict(
        [...db.getKeys(scan)].filter((k) => k !== key),
        at,
      )
    }
    if (!storeFits()) throw full(init, caps, db.getCount(), totalBytes())
  }

  const byOwnerKeys = (owner: string): string[] =>
    [...byOwner.getKeys(ownerRange(owner))].map((k) => k.slice(owner.length + 1))

  return {
    get: (key) => db.get(key),
    put: (key, record, at) => {
      const replaced = db.get(key)
      makeRoom(key, record, replaced, at)
      if (replaced !== undefined) remove(key)
      void db.put(key, record)
      void byOwner.put(`${record.owner}/${key}`, record.bytes)
      void totals.put(TOTAL, totalBytes() + record.bytes)
    },
    remove,
    range: (range = {}) => db.getRange(range),
    keysOf: byOwnerKeys,
    count: () => db.getCount(),
  }
}

function quota(owner: string, init: CappedStoreInit, caps: StoreCaps): PRouterError {
  return new PRouterError(
    'ERR_REGISTRY_QUOTA',
    `${owner} holds as many ${init.what} as one publisher may (${caps.maxPerOwner} records, ` +
      `${caps.maxBytesPerOwner} bytes) and none of them has expired`,
    { detail: { owner, maxPerOwner: caps.maxPerOwner, maxBytesPerOwner: caps.maxBytesPerOwner } },
  )
}

function full(init: CappedStoreInit, caps: StoreCaps, count: number, bytes: number): PRouterError {
  return new PRouterError(
    'ERR_REGISTRY_FULL',
    `the registry holds ${count} ${init.what} (${bytes} bytes), its limit (${caps.maxRecords} records, ` +
      `${caps.maxBytes} bytes), and none has expired to make room`,
    { detail: { maxRecords: caps.maxRecords, maxBytes: caps.maxBytes } },
  )
}
