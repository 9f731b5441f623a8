/** Defaults and units. Durations are milliseconds everywhere. */

export const SECOND = 1000
export const MINUTE = 60 * SECOND
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR
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
/**
 * Largest payload of one SAM datagram PRouter sends: i2pd's MAX_DATAGRAM_SIZE is 32 KiB including the
 * sender's destination (391 B) and signature (64 B); anything over ~10 KB crosses many 1 KB tunnel
 * fragments and is often lost, so messages are cut into MESSAGE_FRAGMENT_BYTES pieces well below this.
 */
export const MAX_SAM_DATAGRAM_PAYLOAD_BYTES = 31 * KIB
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
/** How often the router link checks that the router answers (a SAM HELLO), and that HELLO's deadline. */
export const ROUTER_PROBE_INTERVAL = 1 * SECOND
export const ROUTER_PROBE_TIMEOUT = 1.5 * SECOND
/** i2pd's last error/critical lines kept for the ERR_ROUTER_EXITED of a failed start. */
export const ROUTER_START_ERROR_LINES = 5
/** A restarted router that stays ready this long earns its restart backoff back. */
export const ROUTER_BACKOFF_RESET_AFTER = 1 * MINUTE

// Tunnels
export const MAX_TUNNEL_LENGTH = 7
export const MAX_TUNNEL_QUANTITY = 16
export const DEFAULT_TUNNEL_LENGTH = 3
export const DEFAULT_TUNNEL_QUANTITY = 3
/** lengthVariance is pinned to 0 unless asked: i2pd's variance can silently shorten tunnels. */
export const DEFAULT_TUNNEL_LENGTH_VARIANCE = 0
export const MAX_TUNNEL_LENGTH_VARIANCE = 7
/**
 * Most packets a stream keeps unacknowledged (`i2p.streaming.maxWindowSize`, i2pd >= 2.58; older builds ignore
 * it). i2pd's own bound, 512, let one stream of i2pd 2.59 lose a packet it then never got through: a 64 MiB
 * transfer stalled for good (docs/benchmarks.md, decisions.md); 128 moved it at 4-5 MiB/s.
 */
export const DEFAULT_MAX_STREAM_WINDOW = 128
/** i2pd's MIN_WINDOW_SIZE and MAX_WINDOW_SIZE (libi2pd/Streaming.h). */
export const MIN_STREAM_WINDOW = 3
export const MAX_STREAM_WINDOW = 512

// Testnet
export const DEFAULT_TESTNET_ROUTERS = 5
export const DEFAULT_TESTNET_FLOODFILLS = 2
export const DEFAULT_TESTNET_NETID = 77
export const DEFAULT_TESTNET_UP_TIMEOUT = 3 * MINUTE

// Identity (src/identity)
/** Most endpoint strings one signed binding may carry (a count). */
export const MAX_BINDING_ENDPOINTS = 16
/** Largest SCALE payload of a binding, in bytes: a bound for decoders; one i2p:// endpoint takes 68. */
export const MAX_BINDING_PAYLOAD_BYTES = 32 * KIB
/** Largest key file PRouter reads, in bytes (its own are under 2 KiB). */
export const MAX_KEY_FILE_BYTES = 64 * KIB

// Registry
/** The pallet's window: a binding is accepted only if `signing_time < now <= signing_time + 4 h`. */
export const BINDING_MAX_AGE = 4 * HOUR
/** Clock skew tolerated on a signing time that looks to be in the future. */
export const BINDING_MAX_SKEW = 30 * SECOND
/** Resolvers ignore bindings older than this (daemons refresh theirs well before). */
export const DEFAULT_RESOLVE_MAX_AGE = 24 * HOUR
export const DEFAULT_RESOLVE_CACHE_TTL = 30 * SECOND
export const DEFAULT_REGISTRY_PORT = 7610
export const DEFAULT_REGISTRY_BODY_LIMIT = 16 * KIB
export const DEFAULT_REGISTRY_TIMEOUT = 5 * SECOND
/** RouterInfos older than this are refused and may be evicted (i2pd drops routers unseen for days). */
export const DEFAULT_ROUTER_INFO_MAX_AGE = 7 * 24 * HOUR
/** A RouterInfo published further ahead of the registry's clock than this is refused. */
export const DEFAULT_ROUTER_INFO_MAX_SKEW = 10 * MINUTE
/** How many routers' RouterInfos one local registry holds (a count). */
export const DEFAULT_ROUTER_INFO_MAX_ROUTERS = 2000

// Registry on an EVM chain (src/registry/evm)
/** Deadline of one JSON-RPC call to the EVM node. */
export const DEFAULT_EVM_RPC_TIMEOUT = 10 * SECOND
/** How long a publish or a deploy waits for its transaction's receipt. */
export const DEFAULT_EVM_TX_TIMEOUT = 2 * MINUTE
/** How often `watch` (and a receipt wait) polls the node. */
export const DEFAULT_EVM_POLL_INTERVAL = 2 * SECOND
/** Blocks per eth_getLogs request (a count, not a duration): many public RPC endpoints cap a query at 10k. */
export const DEFAULT_EVM_LOG_BLOCK_RANGE = 10_000

// Daemon (src/daemon, src/proxy, src/api)
export const DEFAULT_DATA_DIR = '.prouter'
export const DEFAULT_API_PORT = 7620
export const DEFAULT_DAEMON_TUNNEL_QUANTITY = 2
export const DEFAULT_INBOUND_MAX_STREAMS = 256
export const DEFAULT_OUTBOUND_MAX_STREAMS = 256
export const DEFAULT_OUTBOUND_MAX_STREAMS_PER_PEER = 32
/** Requests waiting for a free outbound stream before new ones are refused (ERR_TOO_MANY_STREAMS). */
export const DEFAULT_OUTBOUND_MAX_PENDING = 1024
/** Requests in flight on each HTTP/2 connection to a worker before the pool opens another (h2-pool.ts). */
export const DEFAULT_OUTBOUND_REQUESTS_PER_STREAM = 32
/** Connections the pool keeps to a worker once it has been called: back-to-back requests take turns on them,
 * so each goes out on a rested stream (i2pd sends on one at once, and waits out its send timer otherwise). */
export const DEFAULT_OUTBOUND_MIN_STREAMS_PER_PEER = 2
/** HTTP/2 flow-control windows, per request and per connection, both sides: a large body is not held up by
 * window updates on a path with a long round trip (HTTP/2's default is 64 KiB: 0.2 MiB/s at a 300 ms round
 * trip), yet what a peer may make us buffer stays bounded (the session's window, per stream it holds). */
export const H2_STREAM_WINDOW = 2 * 1024 * 1024
export const H2_SESSION_WINDOW = 4 * 1024 * 1024
export const DEFAULT_OUTBOUND_CONNECT_TIMEOUT = 30 * SECOND
/** A request without the first byte of its answer this long has its worker pinged on a fresh stream. */
export const DEFAULT_OUTBOUND_PROBE_AFTER = 5 * SECOND
/** No answer to that ping within this: the worker is lost, its waiting requests fail (ERR_PEER_LOST). */
export const DEFAULT_OUTBOUND_PROBE_TIMEOUT = 10 * SECOND
/** Inbound streams one caller address (source b32) may hold; as many as a peer's outbound pool by default. */
export const DEFAULT_INBOUND_MAX_STREAMS_PER_CALLER = 32
/** Requests one HTTP/2 connection may carry at once (a caller's further requests wait on its side). */
export const INBOUND_H2_MAX_CONCURRENT = 256
/** An anonymous caller's stream with no request in progress is closed after this (registered: 5 min). */
export const DEFAULT_INBOUND_ANONYMOUS_IDLE_TIMEOUT = 15 * SECOND
export const DEFAULT_RATE_LIMIT_PER_SECOND = 100
export const DEFAULT_RATE_LIMIT_BURST = 200
/** Messages a receiver takes from one sender: per second, and in a burst (over it: 'busy', the sender retries). */
export const DEFAULT_MESSAGE_RATE_PER_SECOND = 500
export const DEFAULT_MESSAGE_RATE_BURST = 1000
export const DEFAULT_MAX_HEADER_BYTES = 16 * KIB
export const DEFAULT_MAX_BODY_BYTES = 64 * MIB
export const DEFAULT_IDLE_TIMEOUT = 60 * SECOND
export const DEFAULT_REQUEST_TIMEOUT = 5 * MINUTE
export const DEFAULT_WARM_INTERVAL = 30 * SECOND
export const DEFAULT_WARM_MAX = 64
/** Re-sign and re-publish the binding this often: well inside the pallet's 4 h window. */
export const DEFAULT_PUBLISH_REFRESH_INTERVAL = 1 * HOUR
/** How long an idle inbound HTTP connection (an I2P stream) is kept open for the next request. */
export const INBOUND_KEEP_ALIVE_TIMEOUT = 5 * MINUTE
/** Waiting for the SAM bridge to answer again after the router went away. */
export const SESSION_RETRY_MIN = 500
export const SESSION_RETRY_MAX = 10 * SECOND
/** How often the daemon polls its router's stats for /v1/status (cached in between). */
export const ROUTER_STATS_TTL = 2 * SECOND
/** Longest delay a Node timer takes, in ms: longer durations in the config are refused, never wrapped. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1
/** Random bytes of a generated local API token (written as hex to `<dataDir>/api.token`). */
export const API_TOKEN_BYTES = 32
/** Shortest local API token accepted from a token file, in characters. */
export const MIN_API_TOKEN_LENGTH = 16
/** How long `prouter run` waits for its first SAM session (i2pd 2.56 takes 3–27 s on a fresh network). */
export const DEFAULT_SESSION_START_TIMEOUT = 3 * MINUTE
/** On stop, time for the router to send each stream's close to its peer before the session ends. */
export const STREAM_CLOSE_GRACE = 1 * SECOND
/** On stop, how long the daemon lets its SAM session close gracefully before cutting the connection. */
export const SESSION_CLOSE_WAIT = 1 * SECOND

/** Most RouterInfos the daemon puts in a reseed bundle built from the registry (public reseeds serve ~75). */
export const RESEED_BUNDLE_MAX_ROUTERS = 75
/** How often the daemon checks its router's RouterInfo and publishes it when it changed. */
export const ROUTER_INFO_PUBLISH_INTERVAL = 10 * MINUTE

// Metering (src/metering) and usage reports
/** Named peers the meter counts apart (a count); more are counted together as `other`. */
export const DEFAULT_METERING_MAX_PEERS = 1000
export const MAX_METERING_MAX_PEERS = 4096
/** Most peer entries one report may carry: the bound, `anonymous` and `other`. */
export const MAX_REPORT_PEERS = MAX_METERING_MAX_PEERS + 2
/** Most gaps one report may carry. */
export const MAX_REPORT_GAPS = 1000
/** Length of a usage report's period (periods are aligned to the epoch: 10:00, 10:10 …). */
export const DEFAULT_REPORT_PERIOD = 10 * MINUTE
/** How often router-wide counters are read and the live plots get a point. */
export const DEFAULT_METERING_SAMPLE_INTERVAL = 10 * SECOND
/** How often the open period's counters are saved, bounding what a crash loses. */
export const DEFAULT_METERING_CHECKPOINT_INTERVAL = 1 * MINUTE
/** How much traffic history the status page plots. */
export const METERING_HISTORY_SPAN = 1 * HOUR
/** Largest signed report the registry takes, in bytes (a full peer list is ~0.9 MiB). */
export const MAX_REPORT_BYTES = 1 * MIB
/** How long the local registry keeps reports, and how many. */
export const DEFAULT_REPORT_RETENTION = 30 * DAY
export const DEFAULT_MAX_REPORTS = 200_000
/** Cross-check of usage reports: two figures of one flow agree when they differ by at most the larger of
 * this share of the larger figure and this many bytes (bytes in flight at period edges, streams cut short). */
export const DEFAULT_CROSS_CHECK_TOLERANCE_RELATIVE = 0.02
export const DEFAULT_CROSS_CHECK_TOLERANCE_BYTES = 64 * KIB
/** Valuation of usage reports: score = transit weight × transit bytes + peer weight × confirmed peer bytes. */
export const DEFAULT_VALUATION_TRANSIT_WEIGHT = 1
export const DEFAULT_VALUATION_PEER_WEIGHT = 1
/** A caller proof (src/identity/caller-proof.ts) is believed if signed within this much of the callee's clock. */
export const CALLER_PROOF_WINDOW = 5 * MINUTE
/** How far a message's signing time may be from the receiver's clock, either way; ids are remembered as long. */
export const MESSAGE_TIME_WINDOW = 5 * MINUTE
/** Most message ids (per daemon) remembered at once for de-duplication; past it new messages wait (ERR_MESSAGE_BUSY). */
export const MAX_MESSAGE_IDS_REMEMBERED = 200_000
/** Largest message payload POST /v1/messages takes. */
export const MAX_MESSAGE_BYTES = 64 * KIB
/** Bytes of a signed message per datagram: i2pd delivers 8 KiB reliably; ~10 KB and more is often lost. */
export const MESSAGE_FRAGMENT_BYTES = 8 * KIB
/** Partial (fragmented) messages held per peer, their bytes per peer and in all; past them fragments are dropped. */
export const MAX_PARTIAL_MESSAGES_PER_PEER = 32
export const MAX_PARTIAL_BYTES_PER_PEER = 1 * MIB
export const MAX_PARTIAL_BYTES_TOTAL = 16 * MIB
/** A partial message not completed within this is dropped (the sender's retry starts it again). */
export const PARTIAL_MESSAGE_TIMEOUT = 30 * SECOND
/** Messages waiting in a sender's outbox at most; past it POST /v1/messages answers ERR_MESSAGE_OUTBOX_FULL. */
export const MAX_OUTBOX_MESSAGES = 10_000
/** A message without an ACK is sent again after min, 2·min, … max. */
export const DEFAULT_MESSAGE_RETRY_MIN = 1 * SECOND
export const DEFAULT_MESSAGE_RETRY_MAX = 8 * SECOND
/** How long POST /v1/messages waits for the receiver's ACK before ERR_MESSAGE_TIMEOUT (delivery goes on). */
export const DEFAULT_MESSAGE_SEND_TIMEOUT = 30 * SECOND
/**
 * Deliveries a sender runs at once (each waiting for its ACK); the rest wait their turn. The datagrams to one peer
 * go one at a time anyway (messages/pipe.ts), so this bounds how many messages one batch can carry.
 */
export const MAX_MESSAGES_IN_FLIGHT = 64
/** A NAMING LOOKUP of a peer's datagram destination waits this long (i2pd fetches its LeaseSet meanwhile). */
export const MESSAGE_LOOKUP_TIMEOUT = 30 * SECOND
/** How long the receiver waits for its service to answer a message before the sender must retry. */
export const DEFAULT_MESSAGE_SERVICE_TIMEOUT = 10 * SECOND
/** Where a worker's service receives messages: POST <service.url><path>. */
export const DEFAULT_MESSAGES_PATH = '/prouter/messages'

/**
 * The bound of a daemon's stop, all parts together: each part's stop has its own bound (at most
 * DEFAULT_PART_STOP_TIMEOUT) within it; a part that overruns is destroyed (a managed router: SIGKILL).
 */
export const DEFAULT_DAEMON_STOP_TIMEOUT = 15 * SECOND
/** The bound of one part's stop in a lifecycle (src/lifecycle.ts), unless the part names its own. */
export const DEFAULT_PART_STOP_TIMEOUT = 5 * SECOND

// CLI
/** A long-running command's teardown after a stop signal: past this, it kills what it started and exits 1. */
export const DEFAULT_CLI_TEARDOWN_TIMEOUT = 30 * SECOND

// Local registry: quotas on usage reports, pages of GET /v1/reports, the publish token
/** Most bytes of usage reports the local registry holds at once (canonical JSON). */
export const DEFAULT_MAX_REPORT_STORE_BYTES = 1024 * MIB
/** Most reports of one worker the local registry holds (30 days of 10-min periods are 4320). */
export const DEFAULT_MAX_REPORTS_PER_WORKER = 5000
/** Most bytes of one worker's reports the local registry holds. */
export const DEFAULT_MAX_REPORT_BYTES_PER_WORKER = 64 * MIB
/** Most reports in one page of GET /v1/reports (`limit` may ask for fewer), and the default. */
export const MAX_REPORTS_PAGE = 100
/** Most bytes of reports in one page of GET /v1/reports (a page always holds at least one report). */
export const MAX_REPORTS_PAGE_BYTES = 4 * MIB
/** Shortest bearer token `prouter registry serve` starts with (an empty one would let anyone publish). */
export const MIN_REGISTRY_TOKEN_LENGTH = 16
/**
 * How far in the past a binding meant for a chain is signed: Phala's pallet requires signing_time strictly
 * earlier than the block time (no future allowance), and a clock a little ahead would otherwise be refused.
 */
export const CHAIN_SIGNING_LAG = 30 * SECOND

// Resolving under junk (src/registry/verify-newest.ts, src/registry/evm/key-index.ts)
/** How many signature verdicts (by hash of the signed bytes) a process remembers (a count). */
export const DEFAULT_VERDICT_CACHE_ENTRIES = 16_384
/** Longest run of synchronous verification or decoding before the event loop gets a turn. */
export const DEFAULT_VERIFY_SLICE = SECOND / 100
/** Blocks re-read behind an index's cursor on every scan, so a short reorg cannot hide an event. */
export const DEFAULT_EVM_REORG_MARGIN = 64
/** How often the EVM key index is written to its file at most (it is also written on close). */
export const DEFAULT_EVM_INDEX_FLUSH_INTERVAL = 5 * SECOND
/** Most bindings one `watch` keeps pending per key while it verifies (the newest claims are kept). */
export const DEFAULT_WATCH_PENDING_PER_KEY = 32

/** Waits between failed STREAM ACCEPTs of the inbound side while its session is up (capped backoff). */
export const ACCEPT_RETRY_MIN = 200
export const ACCEPT_RETRY_MAX = 5 * SECOND

/**
 * The Debian release whose i2pd is provisioned when none is chosen (src/router/releases.ts lists them): forky's
 * 2.59 moves one stream 13x faster than trixie's 2.56 with the same round trips (docs/decisions.md).
 */
export const DEFAULT_I2PD_RELEASE = 'forky'
