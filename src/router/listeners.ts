/**
 * The ports a router will listen on must be free before its i2pd starts: a start-up probe that reached
 * another process on them (an i2pd of the same folder by another name, or anything else) would take that
 * process for ours.
 */
import { PRouterError } from '../errors.js'
import type { HostPort, RouterConfig } from './config.js'
import { readPidFile, isRouterPid } from './pid.js'
import { listenOnce } from './free-port.js'

/** The router's local listeners, by the config key that sets each. */
export function localListeners(c: RouterConfig): Array<[string, HostPort]> {
  return [
    ['sam', c.sam],
    ['i2pcontrol', c.i2pcontrol],
    ['console', c.console],
  ]
}

/** Throws ERR_ROUTER_PORT_IN_USE naming every listener of `c` that another process holds (and the pid file's). */
export async function assertListenersFree(c: RouterConfig): Promise<void> {
  const taken: string[] = []
  for (const [name, { host, port }] of localListeners(c)) {
    if (await inUse(host, port)) taken.push(`${name} ${host}:${port}`)
  }
  if (taken.length === 0) return
  const pid = await readPidFile(c.dataDir)
  const holder =
    pid !== undefined && (await isRouterPid(pid, 'i2pd'))
      ? `; ${c.dataDir}/i2pd.pid names a live i2pd (pid ${pid}) not started with this data folder's exact --datadir`
      : ''
  throw new PRouterError(
    'ERR_ROUTER_PORT_IN_USE',
    `another process listens on ${taken.join(', ')}${holder}: stop it or choose other ports`,
  )
}

/** Whether binding `host:port` fails because something listens there (any other failure is i2pd's to report). */
function inUse(host: string, port: number): Promise<boolean> {
  return listenOnce(host, port).then(
    () => false,
    (err: unknown) => (err as NodeJS.ErrnoException).code === 'EADDRINUSE',
  )
}
