/**
 * `/metrics`: the daemon's counters in Prometheus text format, one prom-client registry per daemon (several
 * daemons in one process never mix). The numbers live in src/metering and the daemon's parts; each metric here
 * is a snapshot read at scrape time, so nothing is counted twice and a scrape costs one pass over the peers
 * (bounded by metering.maxPeers). Names follow `prouter_<subsystem>_<what>_total` / `_bytes_total`.
 */
import { collectDefaultMetrics, Registry, type Metric } from 'prom-client'
import { cumulative, type Histogram } from '../metering/histogram.js'
import type { PeerMeter } from '../metering/peer-meter.js'
import type { RouterReading, RouterTotals } from '../metering/router-meter.js'

export interface MetricSources {
  peers: PeerMeter
  router: () => { totals: RouterTotals | undefined; last: RouterReading | undefined }
  reports: () => { published: number; unpublished: number }
  sessionUp: () => boolean
  streams: () => { in: number; out: number }
}

export interface DaemonMetrics {
  render(): Promise<{ contentType: string; body: string }>
}

type Labels = Record<string, string>
interface Sample {
  value: number
  labels: Labels
  metricName?: string
}

export function createDaemonMetrics(sources: MetricSources): DaemonMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'prouter_' })
  for (const m of [...peerMetrics(sources.peers), ...routerMetrics(sources), ...daemonMetrics(sources)]) {
    registry.registerMetric(m)
  }
  return {
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  }
}

function peerMetrics(peers: PeerMeter): Metric[] {
  const each = (f: (p: ReturnType<PeerMeter['all']>[number]) => Sample[]) => () => peers.all().flatMap(f)
  const both = (inValue: (p: ReturnType<PeerMeter['all']>[number]) => number, outValue: typeof inValue) =>
    each((p) => [
      { value: inValue(p), labels: { peer: p.peer, direction: 'in' } },
      { value: outValue(p), labels: { peer: p.peer, direction: 'out' } },
    ])
  return [
    snapshot(
      'prouter_peer_received_bytes_total',
      'Stream payload and message bytes read from each peer worker (anonymous: callers without a binding; other: past the bound).',
      'counter',
      each((p) => [{ value: p.bytesIn, labels: { peer: p.peer } }]),
    ),
    snapshot(
      'prouter_peer_sent_bytes_total',
      'Stream payload and message bytes written to each peer worker.',
      'counter',
      each((p) => [{ value: p.bytesOut, labels: { peer: p.peer } }]),
    ),
    snapshot(
      'prouter_peer_requests_total',
      'Requests relayed with each peer: in = served for it, out = sent to it.',
      'counter',
      both(
        (p) => p.requestsIn,
        (p) => p.requestsOut,
      ),
    ),
    snapshot(
      'prouter_peer_messages_total',
      'Messages with each peer, each counted once: in = delivered to this service, out = acknowledged by the peer.',
      'counter',
      both(
        (p) => p.messagesIn,
        (p) => p.messagesOut,
      ),
    ),
    snapshot(
      'prouter_peer_errors_total',
      'Relayed requests with each peer that ended in an error code.',
      'counter',
      both(
        (p) => p.errorsIn,
        (p) => p.errorsOut,
      ),
    ),
    snapshot(
      'prouter_peer_request_duration_seconds',
      'Time from a request to the end of its answer, per peer and direction.',
      'histogram',
      each((p) => [
        ...histogramSamples('prouter_peer_request_duration_seconds', p.latencyIn, {
          peer: p.peer,
          direction: 'in',
        }),
        ...histogramSamples('prouter_peer_request_duration_seconds', p.latencyOut, {
          peer: p.peer,
          direction: 'out',
        }),
      ]),
    ),
  ]
}

function routerMetrics(s: MetricSources): Metric[] {
  const total = (pick: (t: RouterTotals) => number | undefined) => (): Sample[] => {
    const t = s.router().totals
    const v = t === undefined ? undefined : pick(t)
    return v === undefined ? [] : [{ value: v, labels: {} }]
  }
  const now = (pick: (r: RouterReading) => number) => (): Sample[] => {
    const r = s.router().last
    return r === undefined ? [] : [{ value: pick(r), labels: {} }]
  }
  return [
    snapshot(
      'prouter_router_sent_bytes_total',
      "The router's bytes sent, all traffic (since the daemon started; across router restarts).",
      'counter',
      total((t) => t.sentBytes),
    ),
    snapshot(
      'prouter_router_received_bytes_total',
      "The router's bytes received, all traffic.",
      'counter',
      total((t) => t.receivedBytes),
    ),
    snapshot(
      'prouter_router_transit_bytes_total',
      'Bytes the router forwarded for others (i2pd console "Transit", to within 0.5% of its unit).',
      'counter',
      total((t) => t.transitBytes),
    ),
    snapshot(
      'prouter_router_restarts_total',
      'Router restarts seen by the meter.',
      'counter',
      total((t) => t.restarts),
    ),
    snapshot(
      'prouter_router_participating_tunnels',
      'Transit tunnels the router takes part in now.',
      'gauge',
      now((r) => r.participatingTunnels),
    ),
    snapshot(
      'prouter_router_bandwidth_bytes_per_second',
      "The router's bandwidth, 15 s average.",
      'gauge',
      () => {
        const r = s.router().last
        return r === undefined
          ? []
          : [
              { value: r.inboundBps, labels: { direction: 'in' } },
              { value: r.outboundBps, labels: { direction: 'out' } },
            ]
      },
    ),
  ]
}

function daemonMetrics(s: MetricSources): Metric[] {
  return [
    snapshot('prouter_session_up', '1 when the SAM session is up.', 'gauge', () => [
      { value: s.sessionUp() ? 1 : 0, labels: {} },
    ]),
    snapshot('prouter_streams_open', 'I2P streams open now.', 'gauge', () => {
      const n = s.streams()
      return [
        { value: n.in, labels: { direction: 'in' } },
        { value: n.out, labels: { direction: 'out' } },
      ]
    }),
    snapshot('prouter_reports_published_total', 'Usage reports the registry took.', 'counter', () => [
      { value: s.reports().published, labels: {} },
    ]),
    snapshot(
      'prouter_reports_unpublished',
      'Usage reports written but not yet taken by the registry.',
      'gauge',
      () => [{ value: s.reports().unpublished, labels: {} }],
    ),
  ]
}

function histogramSamples(name: string, h: Histogram, labels: Labels): Sample[] {
  return [
    ...cumulative(h).map(({ le, count }) => ({
      metricName: `${name}_bucket`,
      value: count,
      labels: { ...labels, le: le === Infinity ? '+Inf' : String(le / 1000) },
    })),
    { metricName: `${name}_sum`, value: h.sum / 1000, labels },
    { metricName: `${name}_count`, value: h.count, labels },
  ]
}

/** A metric whose values are read from the source at each scrape (prom-client only formats them). */
function snapshot(
  name: string,
  help: string,
  type: 'counter' | 'gauge' | 'histogram',
  values: () => Sample[],
): Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: () => Promise.resolve({ name, help, type, aggregator: 'sum', values: values() }),
  }
  return metric as unknown as Metric
}
