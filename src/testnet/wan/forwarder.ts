/**
 * Runs the WAN forwarder (native/wanlink.c): one process holding a TUN device in each endpoint's namespace
 * and moving packets between them with each link's delay, jitter, loss and rate. This side writes its
 * config, waits for "ready", reads its per-link counters, and stops it by its pid.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { once } from 'node:events'
import { createInterface, type Interface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { PRouterError } from '../../errors.js'
import type { Logger } from '../../logger.js'
import type { ResolvedLink } from './profile.js'

/** One namespace's side of the WAN: a TUN device `ifname` in `netns`, reached at `address` and `routes`. */
export interface WanPort {
  /** Endpoint name in the link table (r0…, x). */
  name: string
  netns: string
  ifname: string
  address: string
  /** Further prefixes behind this port (a gateway's LAN), CIDR. */
  routes: readonly string[]
}

export interface LinkStats {
  from: string
  to: string
  forwarded: number
  lost: number
  overflow: number
}

export interface WanLinks {
  readonly pid: number
  /** Counters of every link that carried a packet. */
  stats(): Promise<LinkStats[]>
  /** SIGTERM by pid and wait for the exit; the TUN devices go with the process. Idempotent. */
  stop(): Promise<void>
}

type Child = ChildProcessByStdio<Writable, Readable, Readable>

export async function startWanLinks(
  init: { helper: string; ports: readonly WanPort[]; links: readonly ResolvedLink[]; seed?: number },
  logger: Logger,
): Promise<WanLinks> {
  const child: Child = spawn(init.helper, [], { stdio: ['pipe', 'pipe', 'pipe'] })
  const log = logger.child({ component: 'wanlink', pid: child.pid })
  const errors: string[] = []
  createInterface({ input: child.stderr }).on('line', (line) => {
    errors.push(line)
    log.warn(line)
  })
  const lines = createInterface({ input: child.stdout })
  const exited = once(child, 'exit')
  child.stdin.end(configText(init))
  await Promise.race([
    once(lines, 'line'),
    exited.then(([code]: unknown[]) => {
      throw new PRouterError(
        'ERR_WANLINK',
        `the WAN forwarder exited (${String(code)}): ${errors.join('; ')}`,
      )
    }),
  ])
  return {
    pid: child.pid ?? 0,
    stats: () => readStats(child, lines, exited),
    stop: () => stopChild(child, exited),
  }
}

/** The forwarder's stdin config (see native/wanlink.c): endpoints, then every link, then "go". */
export function configText(init: {
  ports: readonly WanPort[]
  links: readonly ResolvedLink[]
  seed?: number
}): string {
  const out = [`seed ${init.seed ?? Date.now()}`, 'default 0 0 0 0']
  for (const p of init.ports)
    out.push(`ep ${p.name} ${p.netns} ${p.ifname} ${p.address}/32 ${p.routes.join(' ')}`.trim())
  for (const l of init.links) {
    const us = (ms: number) => Math.round(ms * 1000)
    const ppm = Math.round(l.loss * 1_000_000)
    out.push(
      `link ${l.from} ${l.to} ${us(l.delayMs)} ${us(l.jitterMs)} ${ppm} ${Math.round(l.rateMbit * 1e6)}`,
    )
  }
  return out.join('\n') + '\ngo\n'
}

async function readStats(child: Child, lines: Interface, exited: Promise<unknown[]>): Promise<LinkStats[]> {
  const stats: LinkStats[] = []
  const done = new Promise<void>((resolve) => {
    const onLine = (line: string) => {
      const [kind, from = '', to = '', forwarded, lost, overflow] = line.split(' ')
      if (kind === 'stat')
        stats.push({ from, to, forwarded: Number(forwarded), lost: Number(lost), overflow: Number(overflow) })
      if (kind !== 'end') return
      lines.off('line', onLine)
      resolve()
    }
    lines.on('line', onLine)
  })
  child.kill('SIGUSR1')
  await Promise.race([
    done,
    exited.then(() => {
      throw new PRouterError('ERR_WANLINK', 'the WAN forwarder exited before it reported its counters')
    }),
  ])
  return stats
}

async function stopChild(child: Child, exited: Promise<unknown[]>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  await exited
}
