/** `status` and `down` for a testnet started by another process: everything comes from testnet.json. */
import { readFile } from 'node:fs/promises'
import { PRouterError } from '../errors.js'
import { certPath } from '../router/data-dir.js'
import type { RouterStats } from '../router/i2pcontrol.js'
import { createI2pControlClient } from '../router/i2pcontrol.js'
import { isRouterPid, stopPid } from '../router/pid.js'
import type { RouterRecord, TestnetState } from './state.js'
import { readState, writeState } from './state.js'

export interface RouterStatus {
  name: string
  running: boolean
  pid?: number
  stats?: RouterStats
  error?: string
}

export async function testnetStatus(dir: string, options: { signal?: AbortSignal } = {}) {
  const state = await readState(dir)
  const routers = await Promise.all(state.routers.map((r) => routerStatus(r, options.signal)))
  return { state, routers }
}

async function routerStatus(r: RouterRecord, signal?: AbortSignal): Promise<RouterStatus> {
  const running = r.pid !== undefined && (await isRouterPid(r.pid, r.dataDir))
  if (!running) return { name: r.name, running }
  try {
    const certPem = await readFile(certPath(r.dataDir), 'utf8')
    const control = createI2pControlClient({ ...r.i2pcontrol, certPem })
    return { name: r.name, running, pid: r.pid, stats: await control.routerInfo({ signal }) }
  } catch (err) {
    return { name: r.name, running, pid: r.pid, error: (err as Error).message }
  }
}

/** Stop every router of the testnet in `dir` by pid (checked against its data folder); returns the state. */
export async function stopTestnet(dir: string): Promise<TestnetState> {
  const state = await readState(dir)
  await Promise.all(
    state.routers.map(async (r) => {
      if (r.pid !== undefined) await stopPid(r.pid, r.dataDir)
      delete r.pid
    }),
  )
  await writeState(state)
  return state
}

/** Refuse to plan a new testnet over one whose routers still run (they would be orphaned). */
export async function assertNoLiveTestnet(dir: string): Promise<void> {
  let state: TestnetState
  try {
    state = await readState(dir)
  } catch {
    return // nothing there
  }
  const alive = await Promise.all(state.routers.map((r) => isRouterPid(r.pid ?? 0, r.dataDir)))
  if (alive.some(Boolean)) {
    throw new PRouterError(
      'ERR_TESTNET_STATE',
      `a testnet is already running in ${dir}: run "prouter testnet down" first`,
    )
  }
}
