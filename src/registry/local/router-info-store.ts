/**
 * RouterInfos in the local registry: the LMDB named database `router-infos`, one record per router id
 * holding the exact bytes i2pd signed. Publishing verifies the RouterInfo (readRouterInfo) first, then applies
 * the rules (../router-info-rules.ts) inside one write transaction of the environment, so concurrent
 * publishes of one router settle on the newest `published`. When the store is full, a new router takes the
 * room of expired ones; with none expired it is refused (ERR_REGISTRY_FULL).
 */
import type { RootDatabase } from 'lmdb'
import type { Logger } from '../../logger.js'
import { readRouterInfo } from '../../i2p/index.js'
import type { RouterInfoReceipt } from '../backend.js'
import { checkRoom, checkRouterInfo, isExpired } from '../router-info-rules.js'
import type { RouterInfoRules, RouterInfoVerdict } from '../router-info-rules.js'

interface RouterInfoRecord {
  bytes: Uint8Array
  published: number
  storedAt: number
}

export interface RouterInfoStore {
  publish(bytes: Uint8Array): Promise<RouterInfoReceipt>
  /** Every record's bytes (copies), in router id order. */
  all(): Uint8Array[]
}

export interface RouterInfoStoreInit {
  rules: RouterInfoRules
  now: () => number
}

export function openRouterInfoStore<V>(
  root: RootDatabase<V, string>,
  init: RouterInfoStoreInit,
  log: Logger,
): RouterInfoStore {
  const db = root.openDB<RouterInfoRecord, string>({ name: 'router-infos' })
  const { rules, now } = init

  /** Within the write transaction: drop expired routers until a new one fits, or refuse it. */
  const makeRoom = (at: number): void => {
    let count = db.getCount()
    if (count < rules.maxRouters) return
    const expired = [...db.getRange()].filter(({ value }) => isExpired(value.published, at, rules))
    for (const { key } of expired) void db.remove(key)
    count -= expired.length
    if (expired.length > 0) log.info({ evicted: expired.length }, 'expired RouterInfos evicted')
    checkRoom(count, rules)
  }

  return {
    publish: async (bytes) => {
      const info = readRouterInfo(bytes)
      const verdict = await root.transaction((): RouterInfoVerdict => {
        const at = now()
        const held = db.get(info.id)
        const verdict = checkRouterInfo(info, held, at, rules)
        if (verdict === 'unchanged') return verdict
        if (held === undefined) makeRoom(at)
        void db.put(info.id, { bytes: Buffer.from(info.bytes), published: info.published, storedAt: at })
        return verdict
      })
      if (verdict === 'store') log.info({ router: info.id, published: info.published }, 'RouterInfo stored')
      return { id: info.id, published: info.published }
    },
    all: () => [...db.getRange()].map(({ value }) => new Uint8Array(value.bytes)),
  }
}
