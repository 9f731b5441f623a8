/**
 * Router counters kept monotonic: growth between readings, a router restart (uptime too short, or a total
 * going down) counted from zero with a `router-restart` gap, resume from a saved reading, tunnel-seconds.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  createRouterMeter,
  type RouterMeter,
  type RouterReading,
} from '../../../src/metering/router-meter.js'

const T0 = 1_764_756_000_000
const SECOND = 1000

const lastAt = (meter: RouterMeter): number | undefined => meter.last?.at

/** A reading `s` seconds after T0 of a router that started `started` seconds after T0. */
function reading(s: number, fields: Partial<RouterReading> & { started?: number } = {}): RouterReading {
  const { started = -3600, ...rest } = fields
  return {
    at: T0 + s * SECOND,
    uptimeMs: (s - started) * SECOND,
    sentBytes: 0,
    receivedBytes: 0,
    transitBytes: 0,
    participatingTunnels: 0,
    inboundBps: 0,
    outboundBps: 0,
    ...rest,
  }
}

test('the first reading is the baseline; later readings add what the totals grew by', () => {
  const meter = createRouterMeter()
  assert.equal(lastAt(meter), undefined)
  assert.equal(
    meter.update(reading(0, { sentBytes: 1000, receivedBytes: 2000, transitBytes: 5000 })),
    undefined,
  )
  assert.deepEqual(meter.totals(), {
    sentBytes: 0,
    receivedBytes: 0,
    transitBytes: 0,
    tunnelSeconds: 0,
    restarts: 0,
  })
  assert.equal(
    meter.update(reading(10, { sentBytes: 1500, receivedBytes: 2100, transitBytes: 5300 })),
    undefined,
  )
  meter.update(reading(20, { sentBytes: 1600, receivedBytes: 2600, transitBytes: 6000 }))
  const t = meter.totals()
  assert.deepEqual([t.sentBytes, t.receivedBytes, t.transitBytes, t.restarts], [600, 600, 1000, 0])
  assert.equal(lastAt(meter), T0 + 20 * SECOND)
})

test('totals() is a copy: changing it does not change the meter', () => {
  const meter = createRouterMeter()
  meter.update(reading(0))
  meter.update(reading(10, { sentBytes: 10 }))
  const t = meter.totals()
  t.sentBytes = 999
  assert.equal(meter.totals().sentBytes, 10)
})

test('an uptime shorter than the time since the last reading is a restart: new totals from zero, a gap', () => {
  const meter = createRouterMeter()
  meter.update(reading(0, { sentBytes: 10_000, receivedBytes: 20_000, transitBytes: 30_000 }))
  // the router started again 25 s after T0: its totals are smaller AND its uptime is 5 s at 30 s
  const gap = meter.update(
    reading(30, { started: 25, sentBytes: 12_000, receivedBytes: 25_000, transitBytes: 40_000 }),
  )
  assert.deepEqual(gap, { start: T0, end: T0 + 25 * SECOND, cause: 'router-restart' })
  const t = meter.totals()
  assert.equal(t.restarts, 1)
  // even though each total is higher than before, the router counts from its new start
  assert.deepEqual([t.sentBytes, t.receivedBytes, t.transitBytes], [12_000, 25_000, 40_000])
  meter.update(reading(40, { started: 25, sentBytes: 12_500, receivedBytes: 25_000, transitBytes: 40_100 }))
  const after = meter.totals()
  assert.deepEqual([after.sentBytes, after.transitBytes, after.restarts], [12_500, 40_100, 1])
})

test('a total going down is a restart even when the uptime looks fine', () => {
  const meter = createRouterMeter()
  meter.update(reading(0, { sentBytes: 5000 }))
  const gap = meter.update(reading(10, { sentBytes: 100 }))
  assert.equal(gap?.cause, 'router-restart')
  assert.equal(meter.totals().sentBytes, 100)
  assert.equal(meter.totals().restarts, 1)
})

test('transit going down alone is a restart too', () => {
  const meter = createRouterMeter()
  meter.update(reading(0, { transitBytes: 5000 }))
  assert.equal(meter.update(reading(10, { transitBytes: 10 }))?.cause, 'router-restart')
  assert.equal(meter.totals().transitBytes, 10)
})

test('readings and uptime taken a moment apart (within the slack) are no restart', () => {
  const meter = createRouterMeter()
  meter.update(reading(0, { sentBytes: 10 }))
  const late = reading(10, { sentBytes: 20 })
  late.uptimeMs -= 1500 // the uptime was read 1.5 s before the reading's time
  assert.equal(meter.update(late), undefined)
  assert.equal(meter.totals().restarts, 0)
  assert.equal(meter.totals().sentBytes, 10)
})

test('readings without transit bytes are no restart, and transit stays unknown until shown', () => {
  const meter = createRouterMeter()
  meter.update(reading(0, { transitBytes: undefined, sentBytes: 100 }))
  assert.equal(meter.totals().transitBytes, undefined)
  assert.equal(meter.update(reading(10, { transitBytes: undefined, sentBytes: 150 })), undefined)
  assert.equal(meter.totals().transitBytes, undefined)
  assert.equal(meter.totals().restarts, 0)
  // transit shows up: it counts from this reading on, not the router's whole total
  assert.equal(meter.update(reading(20, { transitBytes: 1_000_000, sentBytes: 160 })), undefined)
  assert.equal(meter.totals().transitBytes, 0)
  meter.update(reading(30, { transitBytes: 1_000_500, sentBytes: 170 }))
  assert.equal(meter.totals().transitBytes, 500)
  assert.equal(meter.totals().sentBytes, 70)
  assert.equal(meter.totals().restarts, 0)
})

test('a reading without transit between two with it loses none of the transit growth', () => {
  const meter = createRouterMeter()
  meter.update(reading(0, { transitBytes: 1000 }))
  meter.update(reading(10, { transitBytes: undefined, sentBytes: 50 }))
  meter.update(reading(20, { transitBytes: 1700, sentBytes: 60 }))
  assert.deepEqual([meter.totals().transitBytes, meter.totals().restarts], [700, 0])
})

test('tunnel-seconds: 10 tunnels for 30 s is 300', () => {
  const meter = createRouterMeter()
  meter.update(reading(0, { participatingTunnels: 10 }))
  meter.update(reading(30, { participatingTunnels: 4 }))
  assert.equal(meter.totals().tunnelSeconds, 300)
  meter.update(reading(40, { participatingTunnels: 0 }))
  assert.equal(meter.totals().tunnelSeconds, 340, 'then 4 tunnels for 10 s')
})

test('tunnel-seconds across a restart count only the time since the router started', () => {
  const meter = createRouterMeter()
  meter.update(reading(0, { participatingTunnels: 50 }))
  meter.update(reading(60, { started: 50, participatingTunnels: 3 }))
  assert.equal(meter.totals().tunnelSeconds, 30, '3 tunnels for the 10 s it has run')
})

test('resume: the router kept running while the daemon was down, growth since the mark counts', () => {
  const mark = reading(0, {
    sentBytes: 1000,
    receivedBytes: 1000,
    transitBytes: 7000,
    participatingTunnels: 2,
  })
  const meter = createRouterMeter(mark)
  assert.deepEqual(meter.last, mark)
  const gap = meter.update(
    reading(120, { sentBytes: 1800, receivedBytes: 1300, transitBytes: 9000, participatingTunnels: 2 }),
  )
  assert.equal(gap, undefined)
  const t = meter.totals()
  assert.deepEqual(
    [t.sentBytes, t.receivedBytes, t.transitBytes, t.tunnelSeconds, t.restarts],
    [800, 300, 2000, 240, 0],
  )
})

test('resume: a router that restarted while the daemon was down leaves a gap from the mark', () => {
  const mark = reading(0, { sentBytes: 1000, transitBytes: 7000 })
  const meter = createRouterMeter(mark)
  const gap = meter.update(reading(300, { started: 200, sentBytes: 400, transitBytes: 50 }))
  assert.deepEqual(gap, { start: T0, end: T0 + 200 * SECOND, cause: 'router-restart' })
  assert.deepEqual(
    [meter.totals().sentBytes, meter.totals().transitBytes, meter.totals().restarts],
    [400, 50, 1],
  )
})
