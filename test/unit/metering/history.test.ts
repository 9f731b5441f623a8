/**
 * The last hour for the plots: one point per sample (the growth since the previous one), the busiest peers
 * apart and the rest in `other`, points older than the span dropped, a counter reset counted from zero.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createTrafficHistory, type TrafficSample } from '../../../src/metering/history.js'

const T0 = 1_764_756_000_000
const STEP = 10_000
const A = `0x${'a'.repeat(64)}`
const B = `0x${'b'.repeat(64)}`
const C = `0x${'c'.repeat(64)}`

type Totals = Record<string, [number, number]>

function sample(at: number, peers: Totals, router: Partial<TrafficSample> = {}): TrafficSample {
  return {
    at,
    peers: new Map(Object.entries(peers).map(([peer, [bytesIn, bytesOut]]) => [peer, { bytesIn, bytesOut }])),
    transitBytes: undefined,
    routerSent: undefined,
    routerReceived: undefined,
    ...router,
  }
}

test('one point per step, holding what each counter grew by over that step', () => {
  const h = createTrafficHistory({ step: STEP })
  h.record(sample(T0, { [A]: [100, 10] }, { transitBytes: 1000, routerSent: 50, routerReceived: 60 }))
  h.record(sample(T0 + STEP, { [A]: [150, 10] }, { transitBytes: 1400, routerSent: 80, routerReceived: 60 }))
  h.record(
    sample(T0 + 2 * STEP, { [A]: [150, 25] }, { transitBytes: 1500, routerSent: 90, routerReceived: 70 }),
  )
  const s = h.snapshot(T0 + 2 * STEP)
  assert.equal(s.step, STEP)
  assert.deepEqual(s.times, [T0 + STEP, T0 + 2 * STEP], 'the first sample is the baseline only')
  assert.deepEqual(s.transit, [400, 100])
  assert.deepEqual(s.routerSent, [30, 10])
  assert.deepEqual(s.routerReceived, [0, 10])
  assert.deepEqual(s.peers, [{ peer: A, bytesIn: [50, 0], bytesOut: [0, 15] }])
})

test('a peer first seen mid-way counts its whole total in its first point', () => {
  const h = createTrafficHistory({ step: STEP })
  h.record(sample(T0, {}))
  h.record(sample(T0 + STEP, { [B]: [7, 3] }))
  assert.deepEqual(h.snapshot(T0 + STEP).peers, [{ peer: B, bytesIn: [7], bytesOut: [3] }])
})

test('the busiest maxSeries peers are apart, the rest (and the meter`s own `other`) together', () => {
  const h = createTrafficHistory({ step: STEP, maxSeries: 2 })
  h.record(sample(T0, {}))
  h.record(sample(T0 + STEP, { [A]: [100, 0], [B]: [0, 1], [C]: [50, 0], other: [2, 2] }))
  h.record(sample(T0 + 2 * STEP, { [A]: [100, 0], [B]: [0, 500], [C]: [50, 0], other: [3, 2] }))
  const s = h.snapshot(T0 + 2 * STEP)
  assert.deepEqual(
    s.peers.map((p) => p.peer),
    [B, A, 'other'],
    'busiest first (B: 501, A: 100), C (50) joins other',
  )
  const other = s.peers.find((p) => p.peer === 'other')
  assert.deepEqual(other, { peer: 'other', bytesIn: [52, 1], bytesOut: [2, 0] })
  assert.deepEqual(s.peers[0], { peer: B, bytesIn: [0, 0], bytesOut: [1, 499] })
})

test('no `other` series when every peer has its own', () => {
  const h = createTrafficHistory({ step: STEP, maxSeries: 8 })
  h.record(sample(T0, {}))
  h.record(sample(T0 + STEP, { [A]: [1, 0], [B]: [2, 0] }))
  assert.deepEqual(
    h.snapshot(T0 + STEP).peers.map((p) => p.peer),
    [B, A],
  )
})

test('points older than the span are dropped, on record and on snapshot', () => {
  const span = 3 * STEP
  const h = createTrafficHistory({ step: STEP, span })
  for (let i = 0; i <= 6; i++) h.record(sample(T0 + i * STEP, { [A]: [i * 10, 0] }))
  const s = h.snapshot(T0 + 6 * STEP)
  assert.equal(s.span, span)
  assert.deepEqual(s.times, [T0 + 4 * STEP, T0 + 5 * STEP, T0 + 6 * STEP])
  assert.deepEqual(s.peers, [{ peer: A, bytesIn: [10, 10, 10], bytesOut: [0, 0, 0] }])
  const later = h.snapshot(T0 + 8 * STEP)
  assert.deepEqual(
    later.times,
    [T0 + 6 * STEP],
    'a snapshot taken later shows only what is still in the span',
  )
})

test('a counter that went down (a restart) counts as growth from zero', () => {
  const h = createTrafficHistory({ step: STEP })
  h.record(sample(T0, { [A]: [1000, 1000] }, { transitBytes: 9000, routerSent: 9000, routerReceived: 9000 }))
  h.record(sample(T0 + STEP, { [A]: [30, 1000] }, { transitBytes: 40, routerSent: 9001, routerReceived: 5 }))
  const s = h.snapshot(T0 + STEP)
  assert.deepEqual(s.transit, [40])
  assert.deepEqual(s.routerSent, [1])
  assert.deepEqual(s.routerReceived, [5])
  assert.deepEqual(s.peers, [{ peer: A, bytesIn: [30], bytesOut: [0] }])
})

test('transit and router totals are null where the router did not tell', () => {
  const h = createTrafficHistory({ step: STEP })
  h.record(sample(T0, {}, { transitBytes: 100, routerSent: 10, routerReceived: 10 }))
  h.record(sample(T0 + STEP, {}, { transitBytes: 150, routerSent: 30, routerReceived: 10 }))
  h.record(sample(T0 + 2 * STEP, {}))
  const s = h.snapshot(T0 + 2 * STEP)
  assert.deepEqual(s.transit, [50, null])
  assert.deepEqual(s.routerSent, [20, null])
  assert.deepEqual(s.routerReceived, [0, null])
  assert.deepEqual(s.peers, [])
})

test('a sample no later than the last one adds no point', () => {
  const h = createTrafficHistory({ step: STEP })
  h.record(sample(T0, { [A]: [0, 0] }))
  h.record(sample(T0, { [A]: [5, 0] }))
  assert.deepEqual(h.snapshot(T0).times, [])
  h.record(sample(T0 + STEP, { [A]: [8, 0] }))
  assert.deepEqual(h.snapshot(T0 + STEP).peers, [{ peer: A, bytesIn: [3], bytesOut: [0] }])
})
