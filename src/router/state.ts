/**
 * The supervisor's states and the one table of what may follow what. The router changes state in one
 * function that asserts against this table (as undici's client does): an illegal step is a bug, thrown as
 * ERR_ROUTER_STATE rather than left to hide a router nobody restarts.
 *
 *   idle ──start──> starting ──ready──> ready ──unexpected exit──> restarting ──timer──> starting
 *                     │  │                │                          ^    │
 *                     │  └─a restart attempt failed──────────────────┘    │
 *                     │                   └─exit, restarts off─> stopped  │
 *                     └─the owner's start failed─> stopped                │
 *   starting | ready | restarting ──stop()──> stopping ──exited──> stopped ──start──> starting
 */
import { PRouterError } from '../errors.js'

export type RouterState = 'idle' | 'starting' | 'ready' | 'restarting' | 'stopping' | 'stopped'

export const ROUTER_TRANSITIONS: Readonly<Record<RouterState, readonly RouterState[]>> = {
  idle: ['starting', 'stopped'],
  starting: ['ready', 'restarting', 'stopping', 'stopped'],
  ready: ['restarting', 'stopping', 'stopped'],
  restarting: ['starting', 'stopping'],
  stopping: ['stopped'],
  stopped: ['starting'],
}

/** Throws ERR_ROUTER_STATE unless the table allows `from -> to`. */
export function assertTransition(router: string, from: RouterState, to: RouterState): void {
  if (ROUTER_TRANSITIONS[from].includes(to)) return
  throw new PRouterError(
    'ERR_ROUTER_STATE',
    `router ${router}: ${from} -> ${to} is not an allowed transition`,
    {
      detail: { from, to },
    },
  )
}
