/** Per-peer request counters for /v1/peers (bounded: least recently seen peers are dropped first). */

export interface PeerRecord {
  workerKey: string
  requestsOut: number
  requestsIn: number
  errors: number
  lastStatus: number | undefined
  lastError: string | undefined
  lastMs: number | undefined
  lastSeen: number
}

export interface PeerEvent {
  out: boolean
  status: number
  ms: number
  error?: string | undefined
}

export interface PeerStats {
  record(workerKey: string, event: PeerEvent): void
  get(workerKey: string): PeerRecord | undefined
  all(): PeerRecord[]
}

export function createPeerStats(maxPeers = 10_000): PeerStats {
  const peers = new Map<string, PeerRecord>()
  return {
    record(workerKey, event) {
      const p = peers.get(workerKey) ?? blank(workerKey)
      peers.delete(workerKey)
      if (event.out) p.requestsOut++
      else p.requestsIn++
      if (event.error !== undefined) p.errors++
      p.lastStatus = event.status
      p.lastError = event.error
      p.lastMs = Math.round(event.ms * 10) / 10
      p.lastSeen = Date.now()
      peers.set(workerKey, p)
      if (peers.size > maxPeers) peers.delete(peers.keys().next().value as string)
    },
    get: (workerKey) => peers.get(workerKey),
    all: () => [...peers.values()],
  }
}

function blank(workerKey: string): PeerRecord {
  return {
    workerKey,
    requestsOut: 0,
    requestsIn: 0,
    errors: 0,
    lastStatus: undefined,
    lastError: undefined,
    lastMs: undefined,
    lastSeen: 0,
  }
}
