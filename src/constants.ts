/** Defaults and units. Durations are milliseconds everywhere. */

export const SECOND = 1000
export const MINUTE = 60 * SECOND
export const KIB = 1024
export const MIB = 1024 * KIB

// SAM v3
export const SAM_MIN_VERSION = '3.1'
export const SAM_MAX_VERSION = '3.3'
export const DEFAULT_SAM_PORT = 7656
export const DEFAULT_SAM_COMMAND_TIMEOUT = 10 * SECOND
export const DEFAULT_SAM_SESSION_CREATE_TIMEOUT = 3 * MINUTE
export const DEFAULT_SAM_CONNECT_TIMEOUT = 60 * SECOND
export const DEFAULT_SAM_MAX_LINE_BYTES = 64 * KIB
/** How long a graceful SAM close waits for the bridge to close its side before destroying the socket. */
export const DEFAULT_SAM_CLOSE_TIMEOUT = 5 * SECOND
/** Ed25519-SHA512: the destination signature type PRouter asks for. */
export const DEFAULT_SIGNATURE_TYPE = 7

// Retry of CANT_REACH_PEER right after a peer's session appears (its LeaseSet not yet published)
export const DEFAULT_CONNECT_RETRY_ATTEMPTS = 6
export const DEFAULT_CONNECT_RETRY_DELAY = 1 * SECOND
export const MAX_CONNECT_RETRY_DELAY = 8 * SECOND

// i2pd
export const MIN_I2PD_VERSION = '2.51.0'
export const DEFAULT_ROUTER_READY_TIMEOUT = 60 * SECOND
export const DEFAULT_ROUTER_STOP_TIMEOUT = 10 * SECOND
export const DEFAULT_ROUTER_GRACEFUL_STOP_TIMEOUT = 2 * MINUTE
export const DEFAULT_RESTART_BACKOFF_MIN = 1 * SECOND
export const DEFAULT_RESTART_BACKOFF_MAX = 30 * SECOND
export const DEFAULT_I2PCONTROL_TIMEOUT = 5 * SECOND
export const READINESS_POLL_INTERVAL = 200

// Tunnels
export const MAX_TUNNEL_LENGTH = 7
export const MAX_TUNNEL_QUANTITY = 16
export const DEFAULT_TUNNEL_LENGTH = 3
export const DEFAULT_TUNNEL_QUANTITY = 3
/** lengthVariance is pinned to 0 unless asked: i2pd's variance can silently shorten tunnels. */
export const DEFAULT_TUNNEL_LENGTH_VARIANCE = 0
export const MAX_TUNNEL_LENGTH_VARIANCE = 7

// Testnet
export const DEFAULT_TESTNET_ROUTERS = 5
export const DEFAULT_TESTNET_FLOODFILLS = 2
export const DEFAULT_TESTNET_NETID = 77
export const DEFAULT_TESTNET_UP_TIMEOUT = 3 * MINUTE
