/**
 * The user-space WAN (src/testnet/wan, native/wanlink.c): real datagrams between network namespaces cross the
 * forwarder's TUN devices and show the link table's delay and loss — a fast control link beside a slow, lossy
 * one, and a host behind NAT whose traffic leaves through its gateway's emulated link. Needs root and cc.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createNatNetwork, type NatNetwork } from '../../src/testnet/nat-network.js'
import { ensureWanlink } from '../../src/testnet/wan/helper.js'
import type { WanProfileTable } from '../../src/testnet/wan/profile.js'
import { median, startUdpEcho, udpRoundTrips } from '../helpers/udp-probe.js'
import { testLogger } from '../helpers/i2pd.js'

const TABLE: WanProfileTable = {
  name: 'test',
  default: { delayMs: 0, jitterMs: 0, loss: 0, rateMbit: 0 },
  links: [
    { from: 'r0', to: 'r1', delayMs: 40, jitterMs: 2, loss: 0.05 },
    { from: 'r2', to: 'r0', delayMs: 25, jitterMs: 0 },
  ],
}
const PORT = 9000
const COUNT = 600

describe('emulated WAN links between namespaces', { timeout: 5 * 60_000 }, () => {
  let dir: string
  let net: NatNetwork
  const echoes: ChildProcess[] = []
  const host = (name: string) => {
    const h = net.topology.hosts.find((x) => x.name === name)
    assert.ok(h, name)
    return h
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prouter-wan-'))
    const helper = await ensureWanlink(join(dir, 'cache'))
    net = await createNatNetwork(
      { dir, publicHosts: 2, nattedHosts: 1, wan: { helper, profile: TABLE } },
      testLogger(),
    )
    for (const name of ['h0', 'h1', 'n0']) echoes.push(await startUdpEcho(host(name).netns, PORT))
  })
  after(async () => {
    for (const e of echoes) e.kill('SIGTERM')
    await net.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  test('the slow lossy link shows its delay and loss; the fast one shows neither', async (t) => {
    const slow = await udpRoundTrips(host('h1').netns, { host: host('h0').address, port: PORT }, COUNT)
    const fast = await udpRoundTrips(
      net.topology.outside.netns,
      { host: host('h0').address, port: PORT },
      200,
    )
    const got = slow.filter((v): v is number => v !== null)
    const lossRate = 1 - got.length / COUNT
    t.diagnostic(
      `slow: p50 ${median(got).toFixed(1)} ms, min ${Math.min(...got).toFixed(1)}, lost ${(lossRate * 100).toFixed(1)}%`,
    )
    assert.ok(median(got) >= 80 && median(got) < 90, `round trip ~2 x 40 ms, got ${median(got)}`)
    assert.ok(Math.min(...got) >= 76, 'no datagram beats delay - jitter, both ways')
    assert.ok(lossRate > 0.04 && lossRate < 0.16, `~9.75% lost (5% each way), got ${lossRate}`)
    const fastGot = fast.filter((v): v is number => v !== null)
    assert.equal(fastGot.length, 200, 'a loss-free link loses nothing')
    assert.ok(median(fastGot) < 10, `no delay configured: ${median(fastGot)} ms`)
    const stats = await net.topology.wan?.stats()
    const link = stats?.find((s) => s.from === 'r1' && s.to === 'r0')
    assert.ok(link !== undefined && link.lost > 0 && link.forwarded > 0, 'the forwarder counted this link')
  })

  test('a host behind NAT gets out through its gateway, over the gateway link', async (t) => {
    const n0 = host('n0')
    const rtts = await udpRoundTrips(n0.netns, { host: host('h0').address, port: PORT }, 100)
    const got = rtts.filter((v): v is number => v !== null)
    t.diagnostic(`NAT-ed host -> r0: p50 ${median(got).toFixed(1)} ms`)
    assert.equal(got.length, 100)
    assert.ok(median(got) >= 50 && median(got) < 60, `2 x 25 ms, got ${median(got)}`)
    const own = await net.probe('n0', { host: n0.address, port: PORT })
    assert.deepEqual(own, { connected: true }, 'the NAT-ed host listens')
    const inwards = await net.probe('x', { host: n0.address, port: PORT })
    assert.equal(inwards.connected, false, 'routed to its gateway over the emulated WAN: still refused')
  })
})
