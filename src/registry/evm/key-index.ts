/**
 * The EVM backend's index of what it has already read: per worker key, the newest binding that verified
 * among the events read so far and the last block read for it; and the last block read for every key at
 * once (by `all()`). A lookup then reads only the blocks after its cursor (less a reorg margin), verifies
 * only what could beat the binding held (verify-newest.ts), and hands the resolver one candidate.
 * A cursor is a block number and its hash: if the node's block at that number has another hash (a reorg),
 * the read starts `reorgMargin` blocks earlier instead.
 * Junk read once is never read or verified again: a key with 10 000 junk events costs its first sync,
 * then milliseconds.
 *
 * The index is a cache of the chain, never the authority: the resolver verifies what it gets, and a missing
 * or unreadable index file only costs a full read. It lives in the daemon's data dir as one JSON file
 * (written atomically, mode 0600, at most every `flushInterval` and on close), bound to the contract
 * address and deployment block (another registry's index is ignored).
 * Bindings older than `maxAgeMs` (the resolvers' cut-off) are dropped unverified.
 */
import { readFile, rename, writeFile } from 'node:fs/promises'
import {
  DEFAULT_EVM_INDEX_FLUSH_INTERVAL,
  DEFAULT_EVM_REORG_MARGIN,
  DEFAULT_RESOLVE_MAX_AGE,
} from '../../constants.js'
import type { Logger } from '../../logger.js'
import type { SignedBinding, VerifiedBinding } from '../../identity/index.js'
import { bindingFromJson, bindingToJson, decodeEndpointPayload, workerKeyHex } from '../../identity/index.js'
import { createSlicer, decodeClaims, newestPerKey, newestVerified, sharedVerdicts } from '../verify-newest.js'
import type { VerdictCache } from '../verify-newest.js'
import type { Hex } from 'viem'
import type { AdaptiveScan, BlockRef } from './log-scan.js'
import { blockHash, scanEvents } from './log-scan.js'

export interface KeyIndexInit {
  scan: AdaptiveScan
  /** The deployment block: nothing is read before it. */
  fromBlock: bigint
  /** The index file; in memory only when absent. */
  path?: string | undefined
  maxAgeMs?: number
  reorgMargin?: bigint
  flushInterval?: number
  verdicts?: VerdictCache
  now?: () => number
}

export interface KeyIndex {
  /** The newest valid binding of `workerKey` read up to `head` ([] or one binding). */
  candidates(workerKey: `0x${string}`, head: BlockRef, signal?: AbortSignal): Promise<SignedBinding[]>
  /** The newest valid binding of every key read up to `head`. */
  all(head: BlockRef, signal?: AbortSignal): Promise<SignedBinding[]>
  /** Write the file now if anything changed (also stops the flush timer). */
  close(): Promise<void>
}

interface Entry {
  best: VerifiedBinding | undefined
  /** The last block read for this key alone. */
  syncedTo: bigint
}

interface IndexFile {
  version: number
  contract: string
  fromBlock: string
  /** The last block read for every key. */
  allSyncedTo: string | null
  /** The hash of each block a cursor names. */
  hashes: Record<string, string>
  keys: Record<string, { syncedTo: string; payload?: string; signature?: string }>
}

export function openKeyIndex(init: KeyIndexInit, log: Logger): KeyIndex {
  return new FileKeyIndex(init, log)
}

class FileKeyIndex implements KeyIndex {
  private readonly entries = new Map<string, Entry>()
  private allSyncedTo: bigint | undefined
  private readonly hashes = new Map<bigint, Hex>()
  private loaded: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private dirty = false
  private writing: Promise<void> = Promise.resolve()
  private readonly maxAge: number
  private readonly margin: bigint
  private readonly flushInterval: number
  private readonly verdicts: VerdictCache
  private readonly now: () => number

  constructor(
    private readonly init: KeyIndexInit,
    private readonly log: Logger,
  ) {
    this.maxAge = init.maxAgeMs ?? DEFAULT_RESOLVE_MAX_AGE
    this.margin = init.reorgMargin ?? BigInt(DEFAULT_EVM_REORG_MARGIN)
    this.flushInterval = init.flushInterval ?? DEFAULT_EVM_INDEX_FLUSH_INTERVAL
    this.verdicts = init.verdicts ?? sharedVerdicts
    this.now = init.now ?? Date.now
  }

  async candidates(workerKey: `0x${string}`, head: BlockRef, signal?: AbortSignal): Promise<SignedBinding[]> {
    await this.load()
    const key = workerKey.toLowerCase()
    const entry = this.entries.get(key)
    const cursor = max(entry?.syncedTo, this.allSyncedTo)
    const events = await scanEvents(
      this.init.scan,
      { fromBlock: await this.next(cursor, signal), toBlock: head.number, workerKey },
      signal,
    )
    const claims = (
      await decodeClaims(
        events.map((e) => e.binding),
        { signal },
      )
    ).filter((c) => c.workerKey === key)
    const held = entry?.best
    const best = await newestVerified(claims, {
      notBefore: this.notBefore(),
      held,
      verdicts: this.verdicts,
      signal,
    })
    this.hashes.set(head.number, head.hash)
    this.merge(key, best, head.number)
    return best === undefined ? [] : [best.binding]
  }

  async all(head: BlockRef, signal?: AbortSignal): Promise<SignedBinding[]> {
    await this.load()
    const events = await scanEvents(
      this.init.scan,
      { fromBlock: await this.next(this.allSyncedTo, signal), toBlock: head.number },
      signal,
    )
    const claims = await decodeClaims(
      events.map((e) => e.binding),
      { signal },
    )
    const newest = await newestPerKey(claims, {
      notBefore: this.notBefore(),
      heldOf: (key) => this.entries.get(key)?.best,
      verdicts: this.verdicts,
      signal,
    })
    this.hashes.set(head.number, head.hash)
    for (const [key, best] of newest) this.merge(key, best, head.number)
    if (this.allSyncedTo === undefined || head.number > this.allSyncedTo) this.allSyncedTo = head.number
    this.touch()
    return [...this.entries.values()].flatMap((e) => (e.best === undefined ? [] : [e.best.binding]))
  }

  async close(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    await this.flush()
  }

  /** One write at a time; a failed write is logged (the index is a cache: the next sync rebuilds it). */
  private flush(): Promise<void> {
    this.writing = this.writing.then(() =>
      this.write().catch((err: unknown) => {
        this.log.warn({ message: String(err) }, 'could not write the registry index; it stays in memory')
      }),
    )
    return this.writing
  }

  /** The hashes of the blocks some cursor names (the others are forgotten). */
  private cursorHashes(): Map<bigint, Hex> {
    const used = new Set([...this.entries.values()].map((e) => e.syncedTo))
    if (this.allSyncedTo !== undefined) used.add(this.allSyncedTo)
    for (const number of this.hashes.keys()) if (!used.has(number)) this.hashes.delete(number)
    return this.hashes
  }

  private notBefore(): number {
    return this.now() - this.maxAge
  }

  /**
   * The first block to read after `cursor`: the next one if the node still has the cursor's block as it
   * was read, else a reorg margin behind it; never before the deployment.
   */
  private async next(cursor: bigint | undefined, signal?: AbortSignal): Promise<bigint> {
    if (cursor === undefined) return this.init.fromBlock
    const known = this.hashes.get(cursor)
    if (known !== undefined && (await blockHash(this.init.scan.rpc, cursor, signal)) === known)
      return cursor + 1n
    const from = cursor + 1n - this.margin
    return from > this.init.fromBlock ? from : this.init.fromBlock
  }

  /** Keep the newer binding and the later cursor: concurrent reads of one key merge in any order. */
  private merge(key: string, best: VerifiedBinding | undefined, syncedTo: bigint): void {
    const entry = this.entries.get(key)
    const held = entry?.best
    const newest =
      held !== undefined && (best === undefined || held.signingTime >= best.signingTime) ? held : best
    this.entries.set(key, { best: newest, syncedTo: max(entry?.syncedTo, syncedTo) ?? syncedTo })
    this.touch()
  }

  private touch(): void {
    this.dirty = true
    if (this.init.path === undefined || this.timer !== undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.flush()
    }, this.flushInterval)
    this.timer.unref()
  }

  private load(): Promise<void> {
    this.loaded ??= this.readFile()
    return this.loaded
  }

  private async readFile(): Promise<void> {
    if (this.init.path === undefined) return
    let text: string
    try {
      text = await readFile(this.init.path, 'utf8')
    } catch {
      return // no index yet: the first sync builds it
    }
    try {
      await this.restore(JSON.parse(text) as IndexFile)
    } catch (err) {
      this.entries.clear()
      this.allSyncedTo = undefined
      this.log.warn(
        { path: this.init.path, message: String(err) },
        'registry index unreadable: rebuilding it',
      )
    }
  }

  private async restore(file: IndexFile): Promise<void> {
    const { scan, fromBlock } = this.init
    if (
      file.version !== 1 ||
      file.contract !== scan.address.toLowerCase() ||
      file.fromBlock !== String(fromBlock)
    ) {
      this.log.info({ path: this.init.path }, 'registry index is of another registry: rebuilding it')
      return
    }
    this.allSyncedTo = file.allSyncedTo === null ? undefined : BigInt(file.allSyncedTo)
    for (const [number, hash] of Object.entries(file.hashes)) this.hashes.set(BigInt(number), hash as Hex)
    const slice = createSlicer()
    for (const [key, e] of Object.entries(file.keys)) {
      await slice()
      const best = e.payload === undefined ? undefined : trusted(bindingFromJson(e))
      if (best !== undefined) this.verdicts.remember(best) // verified before it was written: not again
      this.entries.set(key, { best, syncedTo: BigInt(e.syncedTo) })
    }
  }

  /**
   * The file as one JSON object, its `keys` serialised one entry at a time, yielding between slices (a
   * thousand keys at once held the event loop for ~80 ms under load).
   */
  private async write(): Promise<void> {
    if (this.init.path === undefined || !this.dirty) return
    this.dirty = false
    const head: Omit<IndexFile, 'keys'> = {
      version: 1,
      contract: this.init.scan.address.toLowerCase(),
      fromBlock: String(this.init.fromBlock),
      allSyncedTo: this.allSyncedTo === undefined ? null : String(this.allSyncedTo),
      hashes: Object.fromEntries([...this.cursorHashes()].map(([n, h]) => [String(n), h])),
    }
    const parts: string[] = []
    const slice = createSlicer()
    for (const [key, e] of [...this.entries]) {
      await slice()
      const entry = {
        syncedTo: String(e.syncedTo),
        ...(e.best === undefined ? {} : bindingToJson(e.best.binding)),
      }
      parts.push(`${JSON.stringify(key)}:${JSON.stringify(entry)}`)
    }
    const text = `${JSON.stringify(head).slice(0, -1)},"keys":{${parts.join(',')}}}`
    const temp = `${this.init.path}.${process.pid}.tmp`
    await writeFile(temp, text, { mode: 0o600 })
    await rename(temp, this.init.path)
  }
}

/**
 * A binding this index verified before it wrote it (its own file, mode 0600 in the daemon's data dir, as
 * trusted as the daemon's keys beside it): decoded, and its verdict restored, not verified again.
 */
function trusted(binding: SignedBinding): VerifiedBinding {
  const p = decodeEndpointPayload(binding.payload)
  return {
    workerKey: workerKeyHex(p.pubkey),
    signingTime: Number(p.signingTime),
    endpoints: [...p.endpoints],
    binding,
  }
}

function max(a: bigint | undefined, b: bigint | undefined): bigint | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return a > b ? a : b
}
