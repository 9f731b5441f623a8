/**
 * Router-wide counters, kept monotonic across router restarts. i2pd's own totals (bytes sent and received,
 * transit bytes) count from the router's start; this meter adds up what they grew by between readings, and a
 * total that went down, or an uptime shorter than the time since the last reading, means the router started
 * again: its new totals are what it moved since, and what it moved between the last reading and its stop is
 * unknown (a `router-restart` gap). Participating tunnels are integrated over time (tunnel-seconds).
 */
import type { UsageGap } from './report.js'

/** One reading of the router (I2PControl RouterInfo and the console's main page). */
export interface RouterReading {
  at: number
  uptimeMs: number
  sentBytes: number
  receivedBytes: number
  /** undefined: the router does not show it (an attached router without console). */
  transitBytes: number | undefined
  participatingTunnels: number
  inboundBps: number
  outboundBps: number
}

/** What the meter has counted since it began (or since the mark it resumed from). */
export interface RouterTotals {
  sentBytes: number
  receivedBytes: number
  /** undefined until a reading showed transit bytes. */
  transitBytes: number | undefined
  tunnelSeconds: number
  restarts: number
}

export interface RouterMeter {
  /** Fold in a reading; returns the gap it revealed, if any. */
  update(reading: RouterReading): UsageGap | undefined
  /** The last reading (what a checkpoint keeps, to resume from). */
  readonly last: RouterReading | undefined
  totals(): RouterTotals
}

/**
 * `resume`: the last reading a previous run of the daemon saw. If the router has run since (its uptime covers
 * the time between), its totals are counted from there, so a daemon restart loses nothing.
 */
export function createRouterMeter(resume?: RouterReading): RouterMeter {
  let last = resume
  const totals: RouterTotals = {
    sentBytes: 0,
    receivedBytes: 0,
    transitBytes: undefined,
    tunnelSeconds: 0,
    restarts: 0,
  }
  let fresh = resume === undefined // the first reading of a fresh meter is its baseline
  return {
    update(reading) {
      const before = last
      // a reading without the transit total keeps the last one, so the growth across it is not lost
      last = reading.transitBytes === undefined ? { ...reading, transitBytes: before?.transitBytes } : reading
      if (fresh) {
        fresh = false
        if (reading.transitBytes !== undefined) totals.transitBytes = 0
        return undefined
      }
      return fold(totals, before as RouterReading, reading)
    },
    get last() {
      return last
    },
    totals: () => ({ ...totals }),
  }
}

function fold(totals: RouterTotals, before: RouterReading, now: RouterReading): UsageGap | undefined {
  const restarted = restartedBetween(before, now)
  const grown = (a: number, b: number): number => (restarted ? b : Math.max(0, b - a))
  totals.sentBytes += grown(before.sentBytes, now.sentBytes)
  totals.receivedBytes += grown(before.receivedBytes, now.receivedBytes)
  if (now.transitBytes !== undefined) {
    totals.transitBytes =
      (totals.transitBytes ?? 0) + grown(before.transitBytes ?? now.transitBytes, now.transitBytes)
  }
  if (!restarted) {
    totals.tunnelSeconds += (before.participatingTunnels * (now.at - before.at)) / 1000
    return undefined
  }
  totals.restarts++
  const startedAt = Math.max(before.at, now.at - now.uptimeMs)
  totals.tunnelSeconds += (now.participatingTunnels * (now.at - startedAt)) / 1000
  return { start: before.at, end: startedAt, cause: 'router-restart' }
}

/** A router counts from its start: a total that shrank, or an uptime shorter than the time since `before`. */
function restartedBetween(before: RouterReading, now: RouterReading): boolean {
  const slack = 2000 // readings and uptime are not taken at the same instant
  if (now.uptimeMs + slack < now.at - before.at + before.uptimeMs) return true
  if (now.sentBytes < before.sentBytes || now.receivedBytes < before.receivedBytes) return true
  const transit = [before.transitBytes, now.transitBytes]
  return transit[0] !== undefined && transit[1] !== undefined && transit[1] < transit[0]
}
