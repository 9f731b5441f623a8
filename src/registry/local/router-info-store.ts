/**
 * RouterInfos in the local registry: a size-capped table (capped-store.ts) named `router-infos.v2`, one
 * record per router id holding the exact bytes i2pd signed; each router owns its one record. Publishing
 * verifies the RouterInfo (readRouterInfo) first, then applies the rules (../router-info-rules.ts) inside one
 * write transaction of the environment, so concurrent publishes of one router settle on the newest
 * `published`. When the store is full, a new router takes the room of expired ones; with none expired it is
 * refused (ERR_REGISTRY_FULL).
 */
import type { RootDatabase } from 'lmdb'
import type { Logger } from '../../logger.js'
import { MAX_ROUTER_INFO_BYTES, readRouterInfo } from '../../i2p/index.js'
import type { RouterInfoReceipt } from '../backend.js'
import { checkRouterInfo, isExpired } from '../router-info-rules.js'
import type { RouterInfoRules, RouterInfoVerdict } from '../router-info-rules.js'
import { openCappedStore } from './capped-store.js'

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
  const { rules, now } = init
  const table = openCappedStore(
    root,
    {
      name: 'router-infos.v2',
      what: 'RouterInfos',
      caps: {
        maxRecords: rules.maxRouters,
        maxBytes: rules.maxRouters * MAX_ROUTER_INFO_BYTES,
        maxPerOwner: 1,
        maxBytesPerOwner: MAX_ROUTER_INFO_BYTES,
      },
      isExpired: (published, at) => isExpired(published, at, rules),
    },
    log,
  )

  return {
    publish: async (bytes) => {
      const info = readRouterInfo(bytes)
      const verdict = await root.transaction((): RouterInfoVerdict => {
        const at = now()
        const record = table.get(info.id)
        const held =
          record === undefined ? undefined : { published: record.until, bytes: record.data as Uint8Array }
        const verdict = checkRouterInfo(info, held, at, rules)
        if (verdict === 'unchanged') return verdict
        const data = Buffer.from(info.bytes)
        const stored = { data, owner: info.id, until: info.published, bytes: data.length, storedAt: at }
        table.put(info.id, stored, at)
        return verdict
      })
      if (verdict === 'store') log.info({ router: info.id, published: info.published }, 'RouterInfo stored')
      return { id: info.id, published: info.published }
    },
    all: () => [...table.range()].map(({ value }) => new Uint8Array(value.data as Uint8Array)),
  }
}
