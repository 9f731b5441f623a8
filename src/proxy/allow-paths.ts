/**
 * Which paths a worker serves to other workers (`inbound.allowPaths`): exact paths, or prefixes written with
 * a trailing `*` (`/prpc/PhactoryAPI.GetInfo`, `/public/*`). A request path is first normalised as a URL
 * (dot segments resolved, `%2e%2e` too), so `/public/../admin` cannot pass as `/public/*`.
 */
import { PRouterError } from '../errors.js'

export type PathFilter = (pathname: string) => boolean

export function createPathFilter(allow: readonly string[] | undefined): PathFilter {
  if (allow === undefined) return () => true
  const exact = new Set(allow.filter((p) => !p.endsWith('*')))
  const prefixes = allow.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1))
  return (pathname) => exact.has(pathname) || prefixes.some((p) => pathname.startsWith(p))
}

/** The normalised pathname and query of a request target (`/a/./b/../c?x=1` -> `/a/c`, `?x=1`). */
export function normalizeTarget(target: string): { pathname: string; search: string } {
  if (!target.startsWith('/') || target.startsWith('//') || target.includes('\\')) {
    throw new PRouterError(
      'ERR_API_BAD_REQUEST',
      `request target must be a path, got "${target.slice(0, 100)}"`,
    )
  }
  const url = new URL(target, 'http://worker.invalid')
  return { pathname: url.pathname, search: url.search }
}
