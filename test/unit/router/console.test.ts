import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { parseDestinationTunnels } from '../../../src/router/console.js'

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
