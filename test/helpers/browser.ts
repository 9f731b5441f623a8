/**
 * Driving the status page (src/web) in Debian's headless Chromium with playwright-core, which downloads no
 * browser of its own: scripts/ensure-tools.sh installs the `chromium` package. Shared by the page's own test
 * and by tests against real daemons.
 *
 *   const browser = await launchBrowser(t)
 *   const page = await openStatusPage(browser, apiUrl, token)
 *   await waitUntil(() => page.plot('traffic-plot'), (p) => p.totalBytes > before, { what: 'traffic plot' })
 */
import { setTimeout as delay } from 'node:timers/promises'
import { chromium, type Browser, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

/**
 * As root Chromium's sandbox cannot start; no GPU in CI; /dev/shm may be small (containers); and nothing
 * that would call out (component updates, metrics, sync) even where it could.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--metrics-recording-only',
]

export const VIEWPORT = { width: 1280, height: 800 }

/** A headless Chromium, closed when the test ends. */
export async function launchBrowser(
  t: { after(fn: () => Promise<void>): void },
  options: { executablePath?: string; timeout?: number } = {},
): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: options.executablePath ?? CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    timeout: options.timeout ?? 30_000,
  })
  t.after(() => browser.close())
  return browser
}

export interface PlotReading {
  /** Points in time plotted. */
  points: number
  /** Bytes summed over every plotted series. */
  totalBytes: number
}

export interface StatusPage {
  page: Page
  /** Every URL the page asked for, in order. */
  requests: string[]
  /** Uncaught exceptions and console errors (a CSP refusal is one). */
  errors: string[]
  text(testId: string): Promise<string>
  visible(testId: string): Promise<boolean>
  plot(testId: 'traffic-plot' | 'transit-plot'): Promise<PlotReading>
  /** Resolves once the element holds `text` (a substring), or throws after `timeout` ms. */
  waitForText(testId: string, text: string, timeout?: number): Promise<void>
}

/**
 * Opens `<apiUrl>/status#token=…` (no token: `/status`) in a fresh context, so no other page's
 * sessionStorage is seen, at 1280×800.
 */
export async function openStatusPage(
  browser: Browser,
  apiUrl: string,
  token: string | undefined,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<StatusPage> {
  const context = await browser.newContext({ viewport: options.viewport ?? VIEWPORT })
  const page = await context.newPage()
  const requests: string[] = []
  const errors: string[] = []
  page.on('request', (req) => requests.push(req.url()))
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`))
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`)
  })
  const fragment = token === undefined ? '' : `#token=${encodeURIComponent(token)}`
  await page.goto(`${apiUrl}/status${fragment}`, { waitUntil: 'load' })
  return statusPage(page, requests, errors)
}

function statusPage(page: Page, requests: string[], errors: string[]): StatusPage {
  const byId = (testId: string) => page.getByTestId(testId)
  const number = async (testId: string, attribute: string): Promise<number> =>
    Number((await byId(testId).getAttribute(attribute)) ?? Number.NaN)
  return {
    page,
    requests,
    errors,
    text: async (testId) => (await byId(testId).textContent()) ?? '',
    visible: (testId) => byId(testId).isVisible(),
    plot: async (testId) => ({
      points: await number(testId, 'data-points'),
      totalBytes: await number(testId, 'data-total-bytes'),
    }),
    waitForText: async (testId, text, timeout = 15_000) => {
      await byId(testId).filter({ hasText: text }).waitFor({ state: 'visible', timeout })
    },
  }
}

/**
 * Reads until `done(value)` holds, every `interval` ms, for at most `timeout` ms; then throws with what it
 * waited for and the last value read.
 */
export async function waitUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  options: { what: string; timeout?: number; interval?: number },
): Promise<T> {
  const deadline = Date.now() + (options.timeout ?? 20_000)
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() >= deadline) {
      throw new Error(`timed out waiting for ${options.what}; last read: ${JSON.stringify(value)}`)
    }
    await delay(options.interval ?? 200)
  }
}

/** The requests that went anywhere but `origin` (e.g. http://127.0.0.1:41023). */
export function requestsOutside(requests: readonly string[], origin: string): string[] {
  return requests.filter((url) => new URL(url).origin !== origin)
}
