/** The testnet's state file (`<dir>/testnet.json`, mode 0600: it holds the routers' local passwords). */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PRouterError } from '../errors.js'
import { writeFileAtomic } from '../files.js'
import type { HostPort } from '../router/config.js'

export interface RouterRecord {
  name: string
  dataDir: string
  host: string
  ntcp2Port: number
  reachable: boolean
  floodfill: boolean
  sam: HostPort
  i2pcontrol: HostPort & { password: string }
  console: HostPort & { user: string; password: string }
  pid?: number
  /**
   * NAT testnet: the router's own network namespace. Its transports bind inside it; `sam`, `i2pcontrol` and
   * `console` above are then loopback forwards into it (only as long as the testnet's process lives).
   */
  netns?: string
  /** NAT testnet: the router sits behind a masquerading gateway and learns its status from its peers. */
  behindNat?: boolean
}

export interface TestnetState {
  dir: string
  netId: number
  version: string
  createdAt: string
  upMs?: number
  /** The WAN profile the links between routers emulate (namespace testnets; 'lan' when none). */
  wan?: string
  routers: RouterRecord[]
}

export function stateFile(dir: string): string {
  return join(dir, 'testnet.json')
}

export async function writeState(state: TestnetState): Promise<void> {
  await writeFileAtomic(stateFile(state.dir), JSON.stringify(state, null, 2) + '\n', 0o600)
}

export async function readState(dir: string): Promise<TestnetState> {
  try {
    return JSON.parse(await readFile(stateFile(dir), 'utf8')) as TestnetState
  } catch (cause) {
    throw new PRouterError('ERR_TESTNET_STATE', `no testnet in ${dir} (${stateFile(dir)} unreadable)`, {
      cause,
    })
  }
}

/** What `--json` prints: no passwords. */
export function publicView(state: TestnetState): unknown {
  return {
    ...state,
    routers: state.routers.map((r) => ({
      name: r.name,
      address: `${r.host}:${r.ntcp2Port}`,
      reachable: r.reachable,
      floodfill: r.floodfill,
      sam: `${r.sam.host}:${r.sam.port}`,
      i2pcontrol: `${r.i2pcontrol.host}:${r.i2pcontrol.port}`,
      console: `http://${r.console.host}:${r.console.port}/`,
      pid: r.pid,
      dataDir: r.dataDir,
    })),
  }
}
