/**
 * The status page's static files (docs/status-page.md), for the API's `web` hook, which runs before its token
 * check: they hold no data. The page's calls to /v1/… carry the token, which it reads from the URL fragment.
 *
 *   GET /status, /status/      the page
 *   GET /status/app.js         its script (a module), and /status/plot.js, the plots it draws
 *   GET /status/style.css      its style
 *   GET /status/icon.svg       its icon
 *
 * Everything is served from memory with a strict CSP (scripts, styles and fetches from this origin only; no
 * inline script or style), no caching, and no content sniffing.
 */
import type { ServerResponse } from 'node:http'
import { APP_JS } from './assets/app-js.js'
import { ICON_SVG, STATUS_HTML } from './assets/page-html.js'
import { PLOT_JS } from './assets/plot-js.js'
import { STYLE_CSS } from './assets/style-css.js'

export type WebPages = (path: string, res: ServerResponse) => boolean

interface Asset {
  contentType: string
  body: Buffer
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
}

/** Answers GET `path` when it is one of the page's files and returns true; anything else: false, untouched. */
export function createWebPages(): WebPages {
  const page = asset('text/html; charset=utf-8', STATUS_HTML)
  const assets = new Map<string, Asset>([
    ['/status', page],
    ['/status/', page],
    ['/status/app.js', asset('text/javascript; charset=utf-8', APP_JS)],
    ['/status/plot.js', asset('text/javascript; charset=utf-8', PLOT_JS)],
    ['/status/style.css', asset('text/css; charset=utf-8', STYLE_CSS)],
    ['/status/icon.svg', asset('image/svg+xml', ICON_SVG)],
  ])
  return (path, res) => {
    const a = assets.get(path)
    if (a === undefined) return false
    res.writeHead(200, { ...HEADERS, 'content-type': a.contentType, 'content-length': a.body.length })
    res.end(a.body)
    return true
  }
}

function asset(contentType: string, text: string): Asset {
  return { contentType, body: Buffer.from(text, 'utf8') }
}
