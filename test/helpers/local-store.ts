/** The embedded LMDB store in a temporary folder, on a clock the test moves; reopened as often as asked. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { openLocalStore } from '../../src/registry/local/store.js'
import type { LocalStore, LocalStoreInit } from '../../src/registry/local/store.js'
import { silentLogger } from '../../src/logger.js'

export interface OpenedStore {
  store: LocalStore
  clock: { now: number }
  /** The same folder opened again (every store opened is closed after the test). */
  reopen: () => LocalStore
}

export async function openTempStore(
  t: TestContext,
  now: number,
  init: Partial<LocalStoreInit> = {},
): Promise<OpenedStore> {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-store-'))
  const clock = { now }
  const stores: LocalStore[] = []
  const reopen = (): LocalStore => {
    const s = openLocalStore({ path: dir, now: () => clock.now, ...init }, { logger: silentLogger() })
    stores.push(s)
    return s
  }
  t.after(async () => {
    for (const s of stores) await s.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { store: reopen(), clock, reopen }
}
