/**
 * The command line that runs i2pd, from the inside out:
 *
 *   [ip netns exec NS] [setpriv --pdeathsig KILL --] sh -c 'umask 077; exec "$@"' i2pd <binary> <args>
 *
 * - `sh -c 'umask 077; exec "$@"'`: every file i2pd writes (its keys, router.info, the I2PControl key) is
 *   0600 and every folder 0700, whatever the caller's umask.
 * - `setpriv --pdeathsig KILL` (util-linux): the kernel sends SIGKILL to i2pd when the process that spawned
 *   it dies, even by kill -9, so a managed router never outlives its daemon. Not for a detached router.
 * - `ip netns exec` (root): inside a network namespace.
 * Each wrapper execs the next, so the pid node sees is i2pd's, and its /proc cmdline is i2pd's own.
 */
import type { I2pdBinary } from './i2pd-binary.js'
import { confPath } from './data-dir.js'

export interface I2pdCommandInit {
  binary: I2pdBinary
  dataDir: string
  netns?: string
  /** SIGKILL i2pd when this process dies (false for a router meant to outlive it). */
  dieWithParent: boolean
}

export const UMASK_WRAPPER = ['sh', '-c', 'umask 077; exec "$@"', 'i2pd'] as const

export function i2pdCommand(init: I2pdCommandInit): { command: string; args: string[] } {
  const i2pd = [
    init.binary.command,
    ...init.binary.args,
    `--conf=${confPath(init.dataDir)}`,
    `--datadir=${init.dataDir}`,
  ]
  const argv = [
    ...(init.netns === undefined ? [] : ['ip', 'netns', 'exec', init.netns]),
    ...(init.dieWithParent ? ['setpriv', '--pdeathsig', 'KILL', '--'] : []),
    ...UMASK_WRAPPER,
    ...i2pd,
  ]
  const [command = 'sh', ...args] = argv
  return { command, args }
}

/** The argument by which a process is known to be the i2pd of `dataDir` (exact, so `r1` is not `r10`). */
export function dataDirArg(dataDir: string): string {
  return `--datadir=${dataDir}`
}
