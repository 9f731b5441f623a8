/**
 * WAN profiles: the one-way delay, jitter, loss and rate of every link between the testnet's hosts. A profile
 * is a named preset (lan, continental, lossy) or a custom table (profile-file.ts); `linkTable()` resolves it
 * for a list of endpoint names into one entry per ordered pair, which the forwarder (forwarder.ts) applies.
 */
import { createHash } from 'node:crypto'

export interface LinkParams {
  /** One-way delay of the link. */
  delayMs: number
  /** Uniform jitter added to each packet's delay: ±jitterMs (packets on a link stay in order). */
  jitterMs: number
  /** Fraction of packets dropped, 0..1. */
  loss: number
  /** Pacing rate in Mbit/s; 0: unlimited. */
  rateMbit: number
}

export interface LinkRule extends Partial<LinkParams> {
  from: string
  to: string
  /** Only from -> to (default: both directions). */
  oneWay?: boolean
}

/** A custom table: defaults for every link, then rules for named pairs (router names r0…, or x). */
export interface WanProfileTable {
  name: string
  default: LinkParams
  links?: readonly LinkRule[]
}

export type WanProfile = 'lan' | 'continental' | 'lossy' | WanProfileTable

export interface ResolvedLink extends LinkParams {
  from: string
  to: string
}

export const WAN_PROFILE_NAMES = ['lan', 'continental', 'lossy'] as const

const LAN: LinkParams = { delayMs: 0, jitterMs: 0, loss: 0, rateMbit: 0 }
/** continental: each pair's one-way delay drawn once in 20..60 ms (the same both ways), 3 ms jitter. */
const CONTINENTAL = { minDelayMs: 20, maxDelayMs: 60, jitterMs: 3, loss: 0.001 }
const LOSSY_LOSS = 0.02

export function profileName(profile: WanProfile): string {
  return typeof profile === 'string' ? profile : profile.name
}

/** Every ordered pair of `endpoints` with its parameters. */
export function linkTable(profile: WanProfile, endpoints: readonly string[]): ResolvedLink[] {
  const links: ResolvedLink[] = []
  for (const from of endpoints)
    for (const to of endpoints) if (from !== to) links.push({ from, to, ...linkParams(profile, from, to) })
  return links
}

export function linkParams(profile: WanProfile, from: string, to: string): LinkParams {
  if (profile === 'lan') return LAN
  if (profile === 'continental' || profile === 'lossy') {
    const loss = profile === 'lossy' ? LOSSY_LOSS : CONTINENTAL.loss
    return { delayMs: pairDelayMs(from, to), jitterMs: CONTINENTAL.jitterMs, loss, rateMbit: 0 }
  }
  return tableParams(profile, from, to)
}

/** A delay in 20..60 ms fixed by the pair's names (order-independent), so every run sees the same map. */
function pairDelayMs(a: string, b: string): number {
  const [x, y] = [a, b].sort()
  const digest = createHash('sha256')
    .update(`${x ?? ''}|${y ?? ''}`)
    .digest()
  const span = CONTINENTAL.maxDelayMs - CONTINENTAL.minDelayMs + 1
  return CONTINENTAL.minDelayMs + (digest.readUInt32BE(0) % span)
}

function tableParams(table: WanProfileTable, from: string, to: string): LinkParams {
  let params = table.default
  for (const rule of table.links ?? []) {
    const forward = rule.from === from && rule.to === to
    const backward = rule.oneWay !== true && rule.from === to && rule.to === from
    if (forward || backward) params = { ...params, ...definedParams(rule) }
  }
  return params
}

function definedParams(rule: LinkRule): Partial<LinkParams> {
  const out: Partial<LinkParams> = {}
  for (const key of ['delayMs', 'jitterMs', 'loss', 'rateMbit'] as const) {
    const value = rule[key]
    if (value !== undefined) out[key] = value
  }
  return out
}
