/**
 * Which paths a worker serves to other workers (`inbound.allowPaths`): exact paths, or prefixes written with
 * a trailing `*` (`/prpc/PhactoryAPI.GetInfo`, `/public/*`). A request path is first normalised as a URL
 * (dot segments resolved, `%2e%2e` too), so `/public/../admin` cannot pass as `/public/*`.
 *
 * The filter sees the path as PRouter reads it; the service may read it otherwise (decode `%2f` to `/`, take
 * `\` for `/`, decode twice, cut at NUL, drop `;params`). So with an allow list, a target that two readers
 * could split into different segments is refused outright (`refuseAmbiguous`), never guessed at.
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

/**
 * Percent-escapes that change how a path splits into segments, or that hide another escape: `%2f` `%5c`
 * (separators), `%25` (double encoding: `%252f` is `%2f` to a service that decodes twice), `%00`-`%1f` and
 * `%7f` (controls, NUL included). Hex digits in either case.
 */
const AMBIGUOUS_ESCAPE = /%(2f|5c|25|[01][0-9a-f]|7f)/i
/** A `%` not followed by two hex digits: services disagree on what it means. */
const MALFORMED_ESCAPE = /%(?![0-9a-f]{2})/i
/** Raw bytes no reader agrees on: backslash, NUL and other controls, space. */
// eslint-disable-next-line no-control-regex
const AMBIGUOUS_RAW = /[\\\u0000-\u0020\u007f]/

/**
 * Throws ERR_PATH_AMBIGUOUS when the path of `target` (before `?`) holds an encoded separator, an encoded or
 * parameterised dot segment (`%2e%2e`, `.%2e`, `..;x`), an empty segment (`//`), a control byte or NUL (raw or
 * encoded), a raw backslash, double or malformed percent-encoding, or percent-encoding that is not UTF-8.
 */
export function refuseAmbiguous(target: string): void {
  const path = target.split('?', 1)[0] ?? ''
  const why = ambiguity(path)
  if (why !== undefined) {
    throw new PRouterError(
      'ERR_PATH_AMBIGUOUS',
      `request path is ambiguous (${why}): "${path.slice(0, 100)}"`,
    )
  }
}

function ambiguity(path: string): string | undefined {
  if (AMBIGUOUS_RAW.test(path)) return 'a backslash, space or control byte'
  if (MALFORMED_ESCAPE.test(path)) return 'a malformed percent-escape'
  if (AMBIGUOUS_ESCAPE.test(path)) return 'an encoded separator, percent sign or control byte'
  if (path.includes('//')) return 'an empty segment'
  let decoded: string[]
  try {
    decoded = path.split('/').map((s) => decodeURIComponent(s))
  } catch {
    return 'percent-encoding that is not UTF-8'
  }
  const raw = path.split('/')
  for (const [i, segment] of decoded.entries()) {
    const bare = segment.split(';', 1)[0] ?? ''
    const dots = bare === '.' || bare === '..'
    if (dots && (segment !== bare || raw[i] !== segment)) return 'an encoded or parameterised dot segment'
  }
  return undefined
}
