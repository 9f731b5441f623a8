import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { parseConsoleTraffic, parseDestinationTunnels } from '../../../src/router/console.js'
import { isPRouterError } from '../../../src/errors.js'

test("i2pd 2.56's local destination page: hops, state and latency of each built tunnel", async () => {
  const html = await readFile(new URL('../../fixtures/i2pd-local-destination.html', import.meta.url), 'utf8')
  const { inbound, outbound } = parseDestinationTunnels(html)
  assert.deepEqual(inbound, [
    { hops: 1, state: 'established', latencyMs: 1 },
    { hops: 1, state: 'established', latencyMs: 1 },
  ])
  assert.deepEqual(
    outbound.map((t) => t.hops),
    [1, 1],
  )
})

test('hop counts follow the arrows; a page without the sections gives no tunnels', () => {
  const item = (arrows: number, state: string) =>
    `<div class="listitem">${'&#8658; abcd '.repeat(arrows)}( 12ms )<span class="tunnel ${state}"> x</span>\n</div>`
  const html = `<b>Inbound tunnels:</b><br>${item(4, 'established')}${item(1, 'building')}<br><b>Outbound tunnels:</b><br>${item(3, 'expiring')}</div>\n<br><b>Tags</b>`
  const parsed = parseDestinationTunnels(html)
  assert.deepEqual(parsed.inbound, [
    { hops: 3, state: 'established', latencyMs: 12 },
    { hops: 0, state: 'building', latencyMs: 12 },
  ])
  assert.deepEqual(parsed.outbound, [{ hops: 2, state: 'expiring', latencyMs: 12 }])
  assert.deepEqual(parseDestinationTunnels('<html>login</html>'), { inbound: [], outbound: [] })
})

test('the main page: transit bytes as printed, their resolution, and transit tunnels', async () => {
  const html = await readFile(new URL('../../fixtures/i2pd-main.html', import.meta.url), 'utf8')
  assert.deepEqual(parseConsoleTraffic(html), { transitBytes: 0, transitResolution: 6, transitTunnels: 0 })
  const busy = html
    .replace('<b>Transit:</b> 0.00 KiB', '<b>Transit:</b> 21.66 MiB')
    .replace('<b>Transit Tunnels:</b> 0', '<b>Transit Tunnels:</b> 17')
  assert.deepEqual(parseConsoleTraffic(busy), {
    transitBytes: Math.round(21.66 * 1024 * 1024),
    transitResolution: 5243,
    transitTunnels: 17,
  })
  assert.equal(parseConsoleTraffic(busy.replace('21.66 MiB', '1.50 GiB')).transitBytes, 1.5 * 1024 ** 3)
  assert.throws(
    () => parseConsoleTraffic('<html>login</html>'),
    (err: unknown) => isPRouterError(err, 'ERR_ROUTER_NOT_RUNNING'),
  )
})
