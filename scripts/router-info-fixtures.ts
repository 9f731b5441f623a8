/**
 * Writes test/fixtures/router-info/: real RouterInfos from i2pd (the provisioned binary) on a private
 * loopback network (netId 77): a reachable floodfill, a reachable router and an unreachable one
 * (published = false). Public data only: router.info files, never router.keys. Next to them,
 * `netdb-names.json` records the file name under which another router stored each RouterInfo in its netDb
 * (`routerInfo-<I2P base64 hash>.dat`), so tests check the hash against i2pd's own naming.
 *
 *   npm run build && node dist/cli/main.js router provision
 *   sh scripts/isolated.sh node --import tsx scripts/router-info-fixtures.ts
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultCacheDir, resolveI2pd } from '../src/router/binary.js'
import { routerInfoPath } from '../src/router/data-dir.js'
import { createLogger } from '../src/logger.js'
import { createTestnet } from '../src/testnet/index.js'
import type { RouterRecord } from '../src/testnet/index.js'
import { readRouterInfo } from '../src/i2p/router-info.js'
import { sleep } from '../src/signals.js'

const OUT = new URL('../test/fixtures/router-info/', import.meta.url).pathname
const ROLES = ['floodfill', 'reachable', 'unreachable'] as const
const NETDB_WAIT_MS = 3 * 60_000

const logger = createLogger({ level: 'warn' })
const binary = await resolveI2pd({ cacheDir: defaultCacheDir(), provision: false }, { logger })
const dir = await mkdtemp(join(tmpdir(), 'prouter-ri-fixtures-'))
const testnet = await createTestnet(
  { dir, binary, routers: 3, floodfills: 1, unreachable: 1, netId: 77 },
  { logger },
)
try {
  const records = testnet.state.routers
  const ids = await Promise.all(
    records.map(async (r) => readRouterInfo(await readFile(routerInfoPath(r.dataDir))).id),
  )
  const seen = await waitUntilSeen(records, ids)
  await mkdir(OUT, { recursive: true })
  for (const [i, rec] of records.entries()) {
    await copyFile(routerInfoPath(rec.dataDir), join(OUT, `${ROLES[i] ?? rec.name}.router.info`))
  }
  await writeFile(join(OUT, 'netdb-names.json'), `${JSON.stringify(seen, null, 2)}\n`)
  console.log(`wrote ${records.length} RouterInfos to ${OUT}: ${JSON.stringify(seen)}`)
} finally {
  await testnet.destroy()
  await rm(dir, { recursive: true, force: true })
}

/** For each router, the file name another router's netDb holds it under (once all are seen, or time is up). */
async function waitUntilSeen(records: readonly RouterRecord[], ids: readonly string[]) {
  const until = Date.now() + NETDB_WAIT_MS
  for (;;) {
    const seen: Record<string, { seenBy: string; file: string }> = {}
    for (const [i, id] of ids.entries()) {
      const file = `routerInfo-${id}.dat`
      for (const other of records) {
        if ((await netDbNames(other.dataDir)).includes(file))
          seen[ROLES[i] ?? id] = { seenBy: other.name, file }
      }
    }
    if (Object.keys(seen).length === ids.length || Date.now() > until) return seen
    await sleep(2000)
  }
}

async function netDbNames(dataDir: string): Promise<string[]> {
  const entries = await readdir(join(dataDir, 'netDb'), { recursive: true }).catch(() => [])
  return entries.map((e) => e.split('/').pop() ?? '')
}
