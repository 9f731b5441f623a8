/**
 * What a registry accepts as a RouterInfo for a private network to bootstrap from. Pure: the store
 * (local/store.ts) calls these inside its write transaction. A RouterInfo is accepted only if
 *
 *   - it is of the registry's network, when one is set           ERR_ROUTER_INFO_NETID
 *   - others can use it to join: it has a host or is a floodfill  ERR_ROUTER_INFO_UNREACHABLE
 *   - published <= now + maxSkewMs                                ERR_ROUTER_INFO_FUTURE
 *   - now <= published + maxAgeMs                                 ERR_ROUTER_INFO_EXPIRED
 *   - it is strictly newer than the one held for that router      ERR_ROUTER_INFO_REPLAYED
 *     (the same bytes again are accepted and change nothing)
 *   - a new router fits under maxRouters (after expired ones go)  ERR_REGISTRY_FULL
 */
import { invalidOption, PRouterError } from '../errors.js'
import {
  DEFAULT_ROUTER_INFO_MAX_AGE,
  DEFAULT_ROUTER_INFO_MAX_ROUTERS,
  DEFAULT_ROUTER_INFO_MAX_SKEW,
} from '../constants.js'
import type { RouterInfo } from '../i2p/index.js'

export interface RouterInfoRules {
  maxAgeMs: number
  maxSkewMs: number
  /** Most routers held at once. */
  maxRouters: number
  /** The only network accepted (RouterInfo option netId); undefined: any. */
  netId?: number
}

export const DEFAULT_ROUTER_INFO_RULES: RouterInfoRules = {
  maxAgeMs: DEFAULT_ROUTER_INFO_MAX_AGE,
  maxSkewMs: DEFAULT_ROUTER_INFO_MAX_SKEW,
  maxRouters: DEFAULT_ROUTER_INFO_MAX_ROUTERS,
}

/** The defaults with `overrides`, each checked (ERR_INVALID_OPTION names the option). */
export function routerInfoRules(overrides: Partial<RouterInfoRules> = {}): RouterInfoRules {
  const rules = { ...DEFAULT_ROUTER_INFO_RULES, ...overrides }
  wholeNumber(rules.maxAgeMs, 'routerInfoRules.maxAgeMs', 1)
  wholeNumber(rules.maxSkewMs, 'routerInfoRules.maxSkewMs', 0)
  wholeNumber(rules.maxRouters, 'routerInfoRules.maxRouters', 1)
  if (rules.netId !== undefined) wholeNumber(rules.netId, 'routerInfoRules.netId', 1)
  return rules
}

function wholeNumber(value: number, option: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw invalidOption(option, `must be a whole number >= ${min}, got ${String(value)}`)
  }
}

/** What the store holds for a router. */
export interface HeldRouterInfo {
  published: number
  bytes: Uint8Array
}

/** 'unchanged': these exact bytes are held already (an idempotent repeat); 'store': write them. */
export type RouterInfoVerdict = 'store' | 'unchanged'

/** Throws the rule's code, or says whether to store; `held` is what the store has for `info.id`. */
export function checkRouterInfo(
  info: RouterInfo,
  held: HeldRouterInfo | undefined,
  now: number,
  rules: RouterInfoRules = DEFAULT_ROUTER_INFO_RULES,
): RouterInfoVerdict {
  checkUseful(info, rules)
  checkTime(info, now, rules)
  if (held === undefined) return 'store'
  if (Buffer.from(held.bytes).equals(info.bytes)) return 'unchanged'
  if (held.published >= info.published) {
    throw new PRouterError(
      'ERR_ROUTER_INFO_REPLAYED',
      `the registry holds a RouterInfo of router ${info.id} published at ${iso(held.published)}, not older than ${iso(info.published)}`,
    )
  }
  return 'store'
}

/** True when a held RouterInfo is past the age limit (and may be evicted). */
export function isExpired(published: number, now: number, rules: RouterInfoRules): boolean {
  return now > published + rules.maxAgeMs
}

/** Throws ERR_REGISTRY_FULL when `count` routers leave no room for another. */
export function checkRoom(count: number, rules: RouterInfoRules): void {
  if (count >= rules.maxRouters) {
    throw new PRouterError(
      'ERR_REGISTRY_FULL',
      `the registry holds RouterInfos of ${count} routers, its limit (none expired to make room)`,
      { detail: { maxRouters: rules.maxRouters } },
    )
  }
}

function checkUseful(info: RouterInfo, rules: RouterInfoRules): void {
  if (rules.netId !== undefined && info.netId !== rules.netId) {
    throw new PRouterError(
      'ERR_ROUTER_INFO_NETID',
      `router ${info.id} is on network ${info.netId}; this registry holds network ${rules.netId} only`,
    )
  }
  if (!info.reachable && !info.floodfill) {
    throw new PRouterError(
      'ERR_ROUTER_INFO_UNREACHABLE',
      `router ${info.id} publishes no host and is no floodfill (caps "${info.caps}"): no router can reseed from it`,
    )
  }
}

function checkTime(info: RouterInfo, now: number, rules: RouterInfoRules): void {
  if (info.published > now + rules.maxSkewMs) {
    throw new PRouterError(
      'ERR_ROUTER_INFO_FUTURE',
      `router ${info.id} published at ${iso(info.published)}, ahead of ${iso(now)}`,
    )
  }
  if (isExpired(info.published, now, rules)) {
    throw new PRouterError(
      'ERR_ROUTER_INFO_EXPIRED',
      `router ${info.id} published at ${iso(info.published)}, older than ${rules.maxAgeMs} ms`,
    )
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString()
}
