import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { linkParams, linkTable, type WanProfileTable } from '../../../src/testnet/wan/profile.js'
import { loadWanProfile, parseWanTable } from '../../../src/testnet/wan/profile-file.js'
import { configText } from '../../../src/testnet/wan/forwarder.js'

const names = Array.from({ length: 14 }, (_, i) => `r${i}`)

test('continental: every pair 20..60 ms one way, the same both ways and every run, 3 ms jitter, 0.1% loss', () => {
  const links = linkTable('continental', names)
  assert.equal(links.length, 14 * 13)
  const delays = new Set<number>()
  for (const l of links) {
    assert.ok(l.delayMs >= 20 && l.delayMs <= 60, `${l.from}->${l.to} ${l.delayMs}`)
    assert.equal(linkParams('continental', l.to, l.from).delayMs, l.delayMs)
    assert.equal(l.jitterMs, 3)
    assert.equal(l.loss, 0.001)
    delays.add(l.delayMs)
  }
  assert.ok(delays.size > 20, 'pairs differ')
  assert.deepEqual(linkTable('continental', names), links)
})

test('lossy is continental with 2% loss; lan has no delay', () => {
  assert.equal(linkParams('lossy', 'r1', 'r2').loss, 0.02)
  assert.equal(linkParams('lossy', 'r1', 'r2').delayMs, linkParams('continental', 'r1', 'r2').delayMs)
  assert.deepEqual(linkParams('lan', 'r1', 'r2'), { delayMs: 0, jitterMs: 0, loss: 0, rateMbit: 0 })
})

test('a custom table: defaults, rules both ways unless oneWay, later rules win', () => {
  const table: WanProfileTable = {
    name: 't',
    default: { delayMs: 5, jitterMs: 1, loss: 0, rateMbit: 0 },
    links: [
      { from: 'r0', to: 'r1', delayMs: 40 },
      { from: 'r0', to: 'r2', loss: 0.5, oneWay: true },
      { from: 'r1', to: 'r0', jitterMs: 7 },
    ],
  }
  assert.deepEqual(linkParams(table, 'r1', 'r0'), { delayMs: 40, jitterMs: 7, loss: 0, rateMbit: 0 })
  assert.equal(linkParams(table, 'r0', 'r2').loss, 0.5)
  assert.equal(linkParams(table, 'r2', 'r0').loss, 0)
  assert.equal(linkParams(table, 'r2', 'r3').delayMs, 5)
})

test('a JSON table is validated and named after its file; names and bad input', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'prouter-wan-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'transatlantic.json')
  await writeFile(file, JSON.stringify({ default: { delayMs: 45, jitterMs: 2, loss: 0.001, rateMbit: 50 } }))
  const profile = await loadWanProfile(file)
  assert.equal(typeof profile === 'object' && profile.name, 'transatlantic')
  assert.equal(await loadWanProfile('lossy'), 'lossy')
  await assert.rejects(loadWanProfile('mars'), { code: 'ERR_INVALID_OPTION' })
  await assert.rejects(loadWanProfile(join(dir, 'none.json')), { code: 'ERR_INVALID_OPTION' })
  assert.throws(() => parseWanTable({ default: { delayMs: 1, jitterMs: 0, loss: 2, rateMbit: 0 } }, 'x'), {
    code: 'ERR_INVALID_OPTION',
  })
  assert.throws(() => parseWanTable({ default: {}, extra: 1 }, 'x'), { code: 'ERR_INVALID_OPTION' })
})

test("the forwarder's config: endpoints with their routes, links in µs, ppm and bit/s", () => {
  const text = configText({
    seed: 1,
    ports: [
      { name: 'r0', netns: 'p-h0', ifname: 'eth0', address: '198.18.0.10', routes: [] },
      { name: 'r1', netns: 'p-g0', ifname: 'wan0', address: '198.18.0.200', routes: ['192.168.100.2/24'] },
    ],
    links: [{ from: 'r0', to: 'r1', delayMs: 20.5, jitterMs: 3, loss: 0.001, rateMbit: 10 }],
  })
  assert.equal(
    text,
    'seed 1\ndefault 0 0 0 0\nep r0 p-h0 eth0 198.18.0.10/32\nep r1 p-g0 wan0 198.18.0.200/32 192.168.100.2/24\n' +
      'link r0 r1 20500 3000 1000 10000000\ngo\n',
  )
})
