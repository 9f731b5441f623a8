/** Per-peer counters: each direction apart, and the bound (named peers past maxPeers share `other`, nothing lost). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createPeerMeter, type PeerCounters } from '../../../src/metering/peer-meter.js'
import { LATENCY_BUCKETS_MS } from '../../../src/metering/histogram.js'

const key = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`
const A = key(0xa)
const B = key(0xb)
const C = key(0xc)

function row(meter: ReturnType<typeof createPeerMeter>, peer: string): PeerCounters {
  const p = meter.get(peer)
  assert.ok(p, `a row for ${peer}`)
  return p
}

/** Index of the bucket an observation of `ms` lands in. */
const bucketOf = (ms: number): number => {
  const i = LATENCY_BUCKETS_MS.findIndex((b) => ms <= b)
  return i < 0 ? LATENCY_BUCKETS_MS.length : i
}

test('bytes add up per peer and direction', () => {
  const meter = createPeerMeter()
  meter.addBytes(A, 100, 7)
  meter.addBytes(A, 20, 3)
  meter.addBytes(B, 0, 5)
  assert.deepEqual({ in: row(meter, A).bytesIn, out: row(meter, A).bytesOut }, { in: 120, out: 10 })
  assert.deepEqual({ in: row(meter, B).bytesIn, out: row(meter, B).bytesOut }, { in: 0, out: 5 })
  assert.equal(meter.get(C), undefined, 'no row for a peer never seen')
})

test('requests, errors and latency are kept per direction', () => {
  const meter = createPeerMeter()
  meter.record(A, { out: true, status: 200, ms: 40 })
  meter.record(A, { out: true, status: 502, ms: 1200, error: 'ERR_SAM_CANT_REACH_PEER' })
  meter.record(A, { out: false, status: 200, ms: 8 })
  const p = row(meter, A)
  assert.equal(p.requestsOut, 2)
  assert.equal(p.errorsOut, 1)
  assert.equal(p.requestsIn, 1)
  assert.equal(p.errorsIn, 0)
  assert.equal(p.latencyOut.count, 2)
  assert.equal(p.latencyOut.sum, 1240)
  assert.equal(p.latencyOut.counts[bucketOf(40)], 1)
  assert.equal(p.latencyOut.counts[bucketOf(1200)], 1)
  assert.equal(p.latencyIn.count, 1)
  assert.equal(p.latencyIn.counts[bucketOf(8)], 1)
  assert.equal(
    p.latencyIn.counts.reduce((a, b) => a + b, 0),
    1,
    'an inbound request is not in the outbound histogram',
  )
  assert.equal(p.lastStatus, 200, 'the last event is the one remembered')
  assert.equal(p.lastError, undefined)
  assert.ok(p.lastSeen > 0)
})

test('an observation past every bound lands in the overflow slot', () => {
  const meter = createPeerMeter()
  meter.record(A, { out: true, status: 504, ms: 120_000, error: 'ERR_TIMEOUT' })
  assert.equal(row(meter, A).latencyOut.counts[LATENCY_BUCKETS_MS.length], 1)
})

test('with maxPeers 2 a third named peer lands in `other`, and nothing is lost', () => {
  const meter = createPeerMeter({ maxPeers: 2 })
  const recorded = { bytesIn: 0, bytesOut: 0, requestsIn: 0, requestsOut: 0 }
  const add = (peer: string, bytesIn: number, bytesOut: number): void => {
    meter.addBytes(peer, bytesIn, bytesOut)
    meter.record(peer, { out: false, status: 200, ms: 5 })
    recorded.bytesIn += bytesIn
    recorded.bytesOut += bytesOut
    recorded.requestsIn++
  }
  add(A, 10, 1)
  add(B, 20, 2)
  add(C, 30, 3)
  add(key(0xd), 40, 4)
  add(A, 5, 5) // A already holds a row: it keeps it
  assert.deepEqual(
    meter
      .all()
      .map((p) => p.peer)
      .sort(),
    [A, B, 'other'].sort(),
  )
  assert.equal(meter.get(C), undefined)
  const other = row(meter, 'other')
  assert.equal(other.bytesIn, 70)
  assert.equal(other.bytesOut, 7)
  assert.equal(other.requestsIn, 2)
  assert.equal(row(meter, A).bytesIn, 15)
  const sum = meter.all().reduce(
    (s, p) => ({
      bytesIn: s.bytesIn + p.bytesIn,
      bytesOut: s.bytesOut + p.bytesOut,
      requestsIn: s.requestsIn + p.requestsIn,
      requestsOut: s.requestsOut + p.requestsOut,
    }),
    { bytesIn: 0, bytesOut: 0, requestsIn: 0, requestsOut: 0 },
  )
  assert.deepEqual(sum, recorded)
})

test('`anonymous` and `other` never count toward the bound', () => {
  const meter = createPeerMeter({ maxPeers: 2 })
  meter.addBytes('anonymous', 1, 1)
  meter.addBytes('other', 1, 1)
  meter.addBytes(A, 1, 1)
  meter.addBytes(B, 1, 1)
  meter.addBytes(C, 1, 1)
  assert.deepEqual(
    meter
      .all()
      .map((p) => p.peer)
      .sort(),
    [A, B, 'anonymous', 'other'].sort(),
  )
  assert.equal(row(meter, 'anonymous').bytesIn, 1)
  assert.equal(row(meter, 'other').bytesIn, 2, 'the explicit `other` and the overflowing C')
})

test('maxPeers 0: every named peer is `other`, anonymous stays apart', () => {
  const meter = createPeerMeter({ maxPeers: 0 })
  meter.addBytes(A, 3, 0)
  meter.addBytes('anonymous', 4, 0)
  assert.deepEqual(
    meter
      .all()
      .map((p) => [p.peer, p.bytesIn])
      .sort(),
    [
      ['anonymous', 4],
      ['other', 3],
    ],
  )
})

test('a message counts once per direction, its bytes in the same byte counters as streams', () => {
  const meter = createPeerMeter()
  meter.addBytes('0xaa', 10, 20)
  meter.addMessage('0xaa', 'in', 300)
  meter.addMessage('0xaa', 'out', 211)
  meter.addMessage('0xaa', 'out', 212)
  const p = meter.get('0xaa')
  assert.equal(p?.messagesIn, 1)
  assert.equal(p.messagesOut, 2)
  assert.equal(p.bytesIn, 310)
  assert.equal(p.bytesOut, 443)
  assert.equal(p.requestsIn + p.requestsOut, 0, 'a message is no request')
})
