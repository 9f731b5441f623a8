/**
 * Which RouterInfos go into a reseed bundle: verified ones (the caller verifies: readRouterInfo) of the
 * right network that others can use — floodfills first (a new router needs one to publish and look up),
 * then reachable routers — newest first, at most `max`, never the router being reseeded.
 */
import type { RouterInfo } from '../i2p/router-info.js'

export interface SelectInit {
  netId: number
  /** Most RouterInfos in a bundle (i2pd's public reseeds serve about 75). */
  max: number
  /** A router's own id, left out. */
  exclude?: string
  /** RouterInfos published before this (ms) are left out: i2pd drops stale ones anyway. */
  notBefore?: number
}

export function selectForReseed(infos: readonly RouterInfo[], init: SelectInit): RouterInfo[] {
  const usable = infos.filter(
    (ri) =>
      ri.netId === init.netId &&
      (ri.floodfill || ri.reachable) &&
      ri.id !== init.exclude &&
      ri.published >= (init.notBefore ?? 0),
  )
  const rank = (ri: RouterInfo): number => (ri.floodfill ? 0 : 1)
  usable.sort((a, b) => rank(a) - rank(b) || b.published - a.published)
  return usable.slice(0, init.max)
}
