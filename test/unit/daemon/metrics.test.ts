/**
 * /metrics in Prometheus text format, from a real peer meter and a router source the test changes: the
 * per-peer counters and latency histograms (cumulative buckets in seconds), the router's counters once a
 * reading exists, the daemon's gauges, the default process metrics, one registry per daemon.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createDaemonMetrics, type MetricSources } from '../../../src/daemon/metrics.js'
import { createPeerMeter } from '../../../src/metering/peer-meter.js'
import type { RouterReading, RouterTotals } from '../../../src/metering/router-meter.js'

const A = `0x${'a'.repeat(64)}`
const B = `0x${'b'.repeat(64)}`

interface Source {
  sources: MetricSources
  router: { totals: RouterTotals | undefined; last: RouterReading | undefined }
  session: { up: boolean }
}

function source(peers = createPeerMeter()): Source {
  const router: Source['router'] = { totals: undefined, last: undefined }
  const session = { up: true }
  return {
    router,
    session,
    sources: {
      peers,
      router: () => router,
      reports: () => ({ published: 3, unpublished: 1 }),
      sessionUp: () => session.up,
      streams: () => ({ in: 2, out: 5 }),
    },
  }
}

/** Sample lines of the exposition: `name{labels}` -> value text. */
function samples(body: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out.set(line.slice(0, at), line.slice(at + 1))
  }
  return out
}

const peerLabel = (peer: string, direction?: string, le?: string): string =>
  `{peer="${peer}"${direction === undefined ? '' : `,direction="${direction}"`}${le === undefined ? '' : `,le="${le}"`}}`

test('per-peer byte, request and error counters', async () => {
  const peers = createPeerMeter()
  peers.addBytes(A, 1234, 567)
  peers.addBytes('anonymous', 8, 9)
  peers.record(A, { out: true, status: 200, ms: 30 })
  peers.record(A, { out: true, status: 502, ms: 30, error: 'ERR_PEER_UNREACHABLE' })
  peers.record(A, { out: false, status: 200, ms: 30 })
  const { body, contentType } = await createDaemonMetrics(source(peers).sources).render()
  assert.match(contentType, /^text\/plain; version=0\.0\.4/)
  const s = samples(body)
  assert.equal(s.get(`prouter_peer_received_bytes_total${peerLabel(A)}`), '1234')
  assert.equal(s.get(`prouter_peer_sent_bytes_total${peerLabel(A)}`), '567')
  assert.equal(s.get('prouter_peer_received_bytes_total{peer="anonymous"}'), '8')
  assert.equal(s.get(`prouter_peer_requests_total${peerLabel(A, 'out')}`), '2')
  assert.equal(s.get(`prouter_peer_requests_total${peerLabel(A, 'in')}`), '1')
  assert.equal(s.get(`prouter_peer_errors_total${peerLabel(A, 'out')}`), '1')
  assert.equal(s.get(`prouter_peer_errors_total${peerLabel(A, 'in')}`), '0')
  assert.ok(body.includes(`prouter_peer_received_bytes_total${peerLabel(A)} 1234\n`), 'the exact line')
})

test('latency histograms: cumulative buckets with `le` in seconds, +Inf, _sum and _count', async () => {
  const peers = createPeerMeter()
  for (const ms of [40, 45, 200, 70_000]) peers.record(B, { out: true, status: 200, ms })
  const s = samples(
    await createDaemonMetrics(source(peers).sources)
      .render()
      .then((r) => r.body),
  )
  const bucket = (le: string, direction = 'out') =>
    s.get(`prouter_peer_request_duration_seconds_bucket${peerLabel(B, direction, le)}`)
  assert.equal(bucket('0.01'), '0')
  assert.equal(bucket('0.025'), '0')
  assert.equal(bucket('0.05'), '2')
  assert.equal(bucket('0.1'), '2')
  assert.equal(bucket('0.25'), '3')
  assert.equal(bucket('60'), '3')
  assert.equal(bucket('+Inf'), '4')
  assert.equal(s.get(`prouter_peer_request_duration_seconds_sum${peerLabel(B, 'out')}`), '70.285')
  assert.equal(s.get(`prouter_peer_request_duration_seconds_count${peerLabel(B, 'out')}`), '4')
  assert.equal(bucket('+Inf', 'in'), '0', 'the other direction has its own, empty histogram')
  assert.equal(s.get(`prouter_peer_request_duration_seconds_count${peerLabel(B, 'in')}`), '0')
  // buckets never decrease, in bound order
  const les = ['0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '60', '+Inf']
  const counts = les.map((le) => Number(bucket(le)))
  assert.ok(
    counts.every((c, i) => i === 0 || c >= (counts[i - 1] ?? 0)),
    counts.join(','),
  )
})

test('router counters appear once a reading exists', async () => {
  const src = source()
  const metrics = createDaemonMetrics(src.sources)
  const before = samples((await metrics.render()).body)
  assert.equal([...before.keys()].filter((k) => k.startsWith('prouter_router_')).length, 0)
  src.router.totals = {
    sentBytes: 1000,
    receivedBytes: 2000,
    transitBytes: 3000,
    tunnelSeconds: 40,
    restarts: 1,
  }
  src.router.last = {
    at: 0,
    uptimeMs: 1,
    sentBytes: 0,
    receivedBytes: 0,
    transitBytes: 0,
    participatingTunnels: 7,
    inboundBps: 150,
    outboundBps: 250,
  }
  const after = samples((await metrics.render()).body)
  assert.equal(after.get('prouter_router_sent_bytes_total'), '1000')
  assert.equal(after.get('prouter_router_received_bytes_total'), '2000')
  assert.equal(after.get('prouter_router_transit_bytes_total'), '3000')
  assert.equal(after.get('prouter_router_restarts_total'), '1')
  assert.equal(after.get('prouter_router_participating_tunnels'), '7')
  assert.equal(after.get('prouter_router_bandwidth_bytes_per_second{direction="in"}'), '150')
  assert.equal(after.get('prouter_router_bandwidth_bytes_per_second{direction="out"}'), '250')
  src.router.totals = { ...src.router.totals, transitBytes: undefined }
  const noTransit = samples((await metrics.render()).body)
  assert.equal(noTransit.has('prouter_router_transit_bytes_total'), false, 'no transit figure, no sample')
  assert.equal(noTransit.get('prouter_router_sent_bytes_total'), '1000')
})

test('session, streams and report gauges are read at each scrape', async () => {
  const src = source()
  const metrics = createDaemonMetrics(src.sources)
  let s = samples((await metrics.render()).body)
  assert.equal(s.get('prouter_session_up'), '1')
  assert.equal(s.get('prouter_streams_open{direction="in"}'), '2')
  assert.equal(s.get('prouter_streams_open{direction="out"}'), '5')
  assert.equal(s.get('prouter_reports_published_total'), '3')
  assert.equal(s.get('prouter_reports_unpublished'), '1')
  src.session.up = false
  s = samples((await metrics.render()).body)
  assert.equal(s.get('prouter_session_up'), '0')
})

test('default process metrics carry the prouter_ prefix', async () => {
  const { body } = await createDaemonMetrics(source().sources).render()
  const s = samples(body)
  assert.ok(s.has('prouter_process_cpu_user_seconds_total'))
  assert.ok(s.has('prouter_nodejs_heap_size_used_bytes'))
  assert.doesNotMatch(body, /^process_/m, 'no unprefixed default metric')
  assert.doesNotMatch(body, /^nodejs_/m)
})

test('every family has one HELP and one TYPE line, before its samples; every sample line is well formed', async () => {
  const peers = createPeerMeter()
  peers.addBytes(A, 1, 1)
  peers.record(A, { out: false, status: 200, ms: 12 })
  const src = source(peers)
  src.router.totals = { sentBytes: 1, receivedBytes: 1, transitBytes: 1, tunnelSeconds: 0, restarts: 0 }
  const { body } = await createDaemonMetrics(src.sources).render()
  const lines = body.split('\n').filter((l) => l !== '')
  const typed = new Map<string, string>()
  const helped = new Set<string>()
  for (const line of lines) {
    const help = /^# HELP (\S+) /.exec(line)
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (help?.[1] !== undefined) {
      assert.equal(helped.has(help[1]), false, `one HELP for ${help[1]}`)
      helped.add(help[1])
    } else if (type?.[1] !== undefined && type[2] !== undefined) {
      assert.equal(typed.has(type[1]), false, `one TYPE for ${type[1]}`)
      typed.set(type[1], type[2])
    } else {
      const sample =
        /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? \S+$/.exec(
          line,
        )
      assert.ok(sample?.[1], `a well-formed sample line: ${line}`)
      const name = sample[1]
      const family = typed.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '')
      assert.ok(typed.has(family), `${name} comes after its family's TYPE line`)
      if (family !== name) assert.equal(typed.get(family), 'histogram', `${name} belongs to a histogram`)
    }
  }
  assert.equal(typed.get('prouter_peer_request_duration_seconds'), 'histogram')
  assert.equal(typed.get('prouter_peer_received_bytes_total'), 'counter')
  assert.equal(typed.get('prouter_session_up'), 'gauge')
  assert.deepEqual([...helped].sort(), [...typed.keys()].sort())
})

test('two daemons in one process keep their own registries and values', async () => {
  const one = createPeerMeter()
  const two = createPeerMeter()
  one.addBytes(A, 111, 0)
  two.addBytes(A, 222, 0)
  two.addBytes(B, 5, 0)
  const first = createDaemonMetrics(source(one).sources)
  const second = createDaemonMetrics(source(two).sources)
  const s1 = samples((await first.render()).body)
  const s2 = samples((await second.render()).body)
  assert.equal(s1.get(`prouter_peer_received_bytes_total${peerLabel(A)}`), '111')
  assert.equal(s2.get(`prouter_peer_received_bytes_total${peerLabel(A)}`), '222')
  assert.equal(s1.has(`prouter_peer_received_bytes_total${peerLabel(B)}`), false)
  assert.equal(s2.get(`prouter_peer_received_bytes_total${peerLabel(B)}`), '5')
  one.addBytes(A, 1, 0)
  assert.equal(
    samples((await first.render()).body).get(`prouter_peer_received_bytes_total${peerLabel(A)}`),
    '112',
  )
  assert.equal(
    samples((await second.render()).body).get(`prouter_peer_received_bytes_total${peerLabel(A)}`),
    '222',
  )
})
