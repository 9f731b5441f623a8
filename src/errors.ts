/**
 * One error type with a stable `code`. Callers branch on `code`, never on `message`.
 * Every code is listed here with a one-line meaning; docs/errors.md repeats the table
 * (a unit test keeps the two in step).
 */

export const ERROR_CODES = {
  ERR_INVALID_OPTION: 'An option failed validation; the message names it.',
  ERR_INVALID_ARGUMENT: 'A function argument failed validation.',
  ERR_INTERNAL: 'An unexpected internal error; the details are logged where it happened.',

  ERR_SAM_CONNECT: 'The SAM bridge could not be reached (host:port in the message).',
  ERR_SAM_CLOSED: 'The SAM socket closed while a command was pending.',
  ERR_SAM_TIMEOUT: 'A SAM command got no reply before its deadline.',
  ERR_SAM_PROTOCOL: 'The SAM bridge sent a reply that does not parse or does not fit the command.',
  ERR_SAM_LINE_TOO_LONG: 'The SAM bridge sent a line longer than the maximum line length.',
  ERR_SAM_SESSION_CLOSED:
    'The SAM session is closed or its control connection died (e.g. the router stopped): open a new one.',
  ERR_SAM_INVALID_STATE: 'A SAM command was called in a state that does not allow it.',
  ERR_SAM_UNSAFE_VALUE: 'A value for a SAM command holds CR, LF, NUL, a quote or a space where none may be.',
  ERR_SAM_NO_VERSION: 'RESULT=NOVERSION: the bridge speaks none of the requested SAM versions.',
  ERR_SAM_CANT_REACH_PEER: 'RESULT=CANT_REACH_PEER: the peer destination could not be reached.',
  ERR_SAM_PEER_NOT_FOUND: 'RESULT=PEER_NOT_FOUND: the peer (or its LeaseSet) was not found.',
  ERR_SAM_KEY_NOT_FOUND: 'RESULT=KEY_NOT_FOUND: a NAMING LOOKUP found no such name.',
  ERR_SAM_DUPLICATED_ID: 'RESULT=DUPLICATED_ID: a session with this id already exists on the bridge.',
  ERR_SAM_DUPLICATED_DEST: 'RESULT=DUPLICATED_DEST: this destination is already in use on the bridge.',
  ERR_SAM_INVALID_ID: 'RESULT=INVALID_ID: the session id is unknown to the bridge.',
  ERR_SAM_INVALID_KEY: 'RESULT=INVALID_KEY: the destination or private key was rejected.',
  ERR_SAM_I2P_ERROR: 'RESULT=I2P_ERROR: the router reported a generic error.',
  ERR_SAM_BRIDGE_TIMEOUT: 'RESULT=TIMEOUT: the bridge itself timed out (e.g. a connect or an accept).',
  ERR_SAM_ALREADY_ACCEPTING:
    'RESULT=ALREADY_ACCEPTING: the session already has a pending accept (SAM < 3.2).',
  ERR_SAM_RESULT_UNKNOWN: 'The bridge answered with a RESULT value this client does not know.',
  ERR_SAM_DATAGRAM_TOO_LARGE:
    'A datagram payload exceeds the largest one PRouter sends through SAM (31 KiB).',

  ERR_MESSAGE_MALFORMED: 'A message or message fragment does not have the v1 layout (field in the message).',
  ERR_MESSAGE_MISADDRESSED: 'A message names another worker as its receiver.',
  ERR_MESSAGE_TIME: "A message's signing time is outside the receiver's window (either way).",
  ERR_MESSAGE_SIGNATURE:
    "A message is not signed by its sender's worker key over its fields and payload hash, or the payload does not match the hash.",
  ERR_MESSAGE_DISABLED: 'Messages are not enabled on this daemon (config messages.enabled).',
  ERR_MESSAGE_TOO_LARGE: 'A message payload is larger than a message may be (64 KiB).',
  ERR_MESSAGE_NO_ENDPOINT:
    "The receiver's binding publishes no datagram endpoint (i2p-datagram://): it runs no messaging, or an older PRouter.",
  ERR_MESSAGE_TIMEOUT:
    'The receiver did not acknowledge the message in time; it stays in the outbox and is still being sent.',
  ERR_MESSAGE_EXPIRED:
    "No acknowledgement came while the message's signing time was inside the receivers' window: it was dropped from the outbox (logged).",
  ERR_MESSAGE_REFUSED: 'The receiver refused the message for good with a code this PRouter does not know.',
  ERR_MESSAGE_SOURCE:
    "A message came from a datagram destination other than the one its sender's binding publishes (a forwarded or replayed message).",
  ERR_MESSAGE_REJECTED:
    "The receiving worker's service answered the message with a 4xx status: refused for good.",
  ERR_MESSAGE_SERVICE_FAILED:
    "The receiving worker's service answered the message with a 5xx status: the sender retries.",
  ERR_MESSAGE_OUTBOX_FULL: 'The sender holds as many unacknowledged messages as its outbox may: retry later.',
  ERR_ANSWER_LOST:
    'A request over datagrams was served, but its answer is no longer held for a retry (evicted, or expired unfetched): it is not served again.',
  ERR_ANSWERS_FULL:
    'The callee holds as many long answers for callers to fetch as it may: the request was not served; retry later.',
  ERR_MESSAGE_BUSY:
    'The receiver remembers as many message ids, or holds as many partial messages, as it may: retry later.',
  ERR_MESSAGE_SEQUENCE:
    "The sender's sequence file (messages/sequence.json) does not parse: ordered messages are refused until it is mended.",

  ERR_ROUTER_NOT_FOUND: 'No usable i2pd binary: none given, none on PATH, none provisioned.',
  ERR_ROUTER_PROVISION: 'Provisioning i2pd (apt download, unpack) failed; the message says which step.',
  ERR_ROUTER_VERSION: 'The i2pd binary is older than the minimum version PRouter supports.',
  ERR_ROUTER_START_TIMEOUT: 'i2pd did not become ready (SAM HELLO and I2PControl) before the deadline.',
  ERR_ROUTER_EXITED: 'i2pd exited (code or signal in the message).',
  ERR_ROUTER_PORT_IN_USE:
    'Another process holds a port the router is configured for (SAM, I2PControl or console: checked before i2pd starts; or any of its listeners, NTCP2 included, as i2pd reports while it starts: that i2pd is stopped).',
  ERR_ROUTER_LISTEN:
    "i2pd could not open one of its listeners (SAM, I2PControl, console, NTCP2, SSU2) for a reason other than a port in use: i2pd's own line says which and why; that i2pd is stopped.",
  ERR_ROUTER_NOT_RUNNING: 'The operation needs a running router and there is none.',
  ERR_ROUTER_STATE:
    'The router supervisor was asked for a state change its transition table does not allow (a bug: the message names both states).',
  ERR_ROUTER_UNRESPONSIVE:
    'The router runs but did not answer a SAM HELLO within its deadline (hung, stopped or overloaded); /healthz answers 503.',
  ERR_I2PCONTROL: 'The I2PControl JSON-RPC call failed or returned an error.',
  ERR_I2PCONTROL_AUTH: 'I2PControl refused the password or the token.',

  ERR_ROUTER_INFO_MALFORMED:
    'A RouterInfo does not parse: over 3072 bytes, truncated, trailing bytes, or a bad Mapping (field and offset in the message).',
  ERR_ROUTER_INFO_SIGNATURE: 'The RouterInfo is not signed by its own RouterIdentity signing key.',
  ERR_ROUTER_INFO_UNSUPPORTED:
    'The RouterInfo uses a signing type other than Ed25519 (7), which PRouter does not verify.',

  ERR_INVALID_WORKER_KEY: "A worker key is not '0x' and 64 hex digits (a 32-byte sr25519 public key).",
  ERR_BINDING_MALFORMED:
    'A signed binding does not parse: SCALE payload, JSON fields, hex, lengths, or more than the limits allow.',
  ERR_BINDING_SIGNATURE: 'The binding is not signed (sr25519) by its own pubkey over 0xff 0x02 ++ payload.',
  ERR_KEY_INVALID_SURI:
    'The mnemonic or secret URI does not parse (the secret itself is never repeated in the message).',
  ERR_KEY_FILE_EXISTS: 'The key folder already holds keys; pass force (--force) to replace them.',
  ERR_KEY_FILE_MISSING: 'A key file (worker.key or i2p.key) is missing: run `prouter keys init` first.',
  ERR_KEY_FILE_MODE: 'A key file is accessible by group or others (mode in the message): chmod 600 it.',
  ERR_KEY_FILE_MALFORMED: 'A key file is not the JSON PRouter writes (version, type, fields, encodings).',
  ERR_KEY_MISMATCH:
    'A key file contradicts itself: its secret does not give the public key, destination or b32 stored.',

  ERR_REGISTRY_NOT_FOUND: 'No valid binding for that worker key (or I2P address) in the registry.',
  ERR_REGISTRY_NOT_ALLOWED: 'The worker key is not on the registry allow-list.',
  ERR_REGISTRY_UNAUTHORIZED: 'The request to the local registry carries no valid bearer token.',
  ERR_REGISTRY_BAD_REQUEST: 'The request to the local registry is malformed (JSON, fields, sizes).',
  ERR_REGISTRY_BODY_TOO_LARGE: 'The request body exceeds the local registry body limit.',
  ERR_REGISTRY_UNREACHABLE:
    'The registry could not be reached or did not answer in time (URL in the message).',
  ERR_BINDING_STALE: 'The binding was signed more than 4 h ago (the pallet window): sign a fresh one.',
  ERR_BINDING_FUTURE: 'The binding signing time is in the future (beyond the allowed clock skew).',
  ERR_BINDING_REPLAYED:
    'The registry holds a binding for that key signed at the same time or later: no rollback.',
  ERR_REGISTRY_UNSUPPORTED:
    'This registry backend does not store that kind of record (the EVM registry keeps no RouterInfos).',
  ERR_REGISTRY_FULL:
    'The local registry holds as many RouterInfos (maxRouters) or usage reports (maxReports) as it may and none has expired to make room.',
  ERR_ROUTER_INFO_NETID: "The RouterInfo's netId is not the network this registry holds.",
  ERR_ROUTER_INFO_UNREACHABLE:
    'The RouterInfo publishes no host and is no floodfill: useless for reseeding, so not stored.',
  ERR_ROUTER_INFO_FUTURE:
    'The RouterInfo was published more than 10 min (maxSkewMs) ahead of the registry clock.',
  ERR_ROUTER_INFO_EXPIRED:
    'The RouterInfo was published longer ago than the registry keeps routers (7 days by default).',
  ERR_ROUTER_INFO_REPLAYED:
    'The registry holds a RouterInfo of that router published at the same time or later: no rollback.',
  ERR_EVM_RPC: 'The EVM node is unreachable or failed the JSON-RPC call (URL in the message).',
  ERR_EVM_TIMEOUT: 'The EVM node did not answer (or the transaction was not mined) before the deadline.',
  ERR_EVM_CONTRACT: 'No contract at the registry address, or not this version of WorkerRegistry.',
  ERR_EVM_TX:
    'The registry transaction reverted or could not be paid for; the reason is kept in the message.',
  ERR_EVM_NO_RELAYER:
    'Publishing to the EVM registry needs a relayer key (a funded secp256k1 account); none is set.',

  ERR_ROUTER_UNAVAILABLE:
    'The local router (its SAM session) is down or restarting: the request was not sent; retry shortly.',
  ERR_PEER_UNREACHABLE:
    'The worker is registered but could not be reached over I2P before the deadline (its router or tunnels are down).',
  ERR_PEER_CLOSED: 'The worker closed the stream before answering in full.',
  ERR_API_UNAUTHORIZED: 'The request to the local API carries no valid bearer token.',
  ERR_PROXY_AUTH_REQUIRED:
    'A proxy request (absolute URL or CONNECT) carries no valid Proxy-Authorization (Bearer, or Basic with the token as password).',
  ERR_API_BAD_REQUEST: 'The request to the local API is malformed (route, worker name, headers).',
  ERR_NOT_FOUND: 'No such route on the local API.',
  ERR_TOO_MANY_STREAMS: 'The limit of concurrent streams (inbound or outbound) is reached; retry later.',
  ERR_RATE_LIMITED: 'The calling worker sent more requests than its rate limit allows; see Retry-After.',
  ERR_HEADERS_TOO_LARGE: 'The request headers exceed limits.maxHeaderBytes.',
  ERR_BODY_TOO_LARGE: 'The body exceeds limits.maxBodyBytes.',
  ERR_PATH_NOT_ALLOWED: 'The worker does not serve this path to other workers (inbound.allowPaths).',
  ERR_ANONYMOUS_REFUSED:
    'The worker refuses callers without a registered, signature-valid binding (inbound.allowAnonymous).',
  ERR_REQUEST_TIMEOUT: 'The request did not complete within limits.requestTimeout.',
  ERR_IDLE_TIMEOUT: 'No byte moved on the request for limits.idleTimeout.',
  ERR_SERVICE_UNREACHABLE: "The worker's local service (service.url) could not be reached or failed.",
  ERR_NO_SERVICE: 'This worker has no local service configured (service.url): it serves no inbound requests.',
  ERR_PATH_AMBIGUOUS:
    'With inbound.allowPaths, the target holds an ambiguous encoding (%2f, %5c, %2e%2e, //, NUL, %25).',
  ERR_PEER_LOST: 'The worker stopped answering (its ping failed) before the answer came.',

  ERR_SU3_MALFORMED:
    'An SU3 file does not parse as a PRouter reseed bundle: magic, a header field, lengths, or signer ID (field in the message).',
  ERR_SU3_SIGNATURE:
    "An SU3 file's signature does not verify with its signer's trusted key: the file was altered or signed by another key.",
  ERR_SU3_UNTRUSTED_SIGNER: "An SU3 file's signer ID names no trusted reseed certificate or key.",

  ERR_REPORT_MALFORMED:
    'A usage report does not parse: JSON, an unknown or missing field, a number that is no whole byte count, the peer list, sizes (field in the message).',
  ERR_REPORT_SIGNATURE:
    'The usage report is not signed (sr25519) by its own worker key over its signing message: it was altered or signed by another key.',
  ERR_REPORT_CONFLICT:
    'The registry holds a different report signed by that worker for the same period: a report, once published, is final.',
  ERR_REPORT_FUTURE: "The report's period ends after the registry clock (beyond the allowed clock skew).",
  ERR_REPORT_EXPIRED: "The report's period ended longer ago than the registry keeps reports.",
  ERR_REPORT_NONE:
    'No usage report was found where the command looked (--file, --dir, the registry) in the window asked: nothing was verified or valued.',
  ERR_METERING_STATE:
    'A metering state or report file on disk does not parse: it is moved aside (its new name in the message) and the period shows a gap.',

  ERR_TESTNET_TIMEOUT: 'The testnet did not reach the awaited state before its deadline.',
  ERR_TESTNET_STATE: 'The testnet folder holds no testnet, or one in another state.',
  ERR_TESTNET_WORKER:
    "A worker's `prouter run` in its namespace (a managed worker behind NAT) exited before its ready line.",
  ERR_RESEED_EMPTY:
    'The registry holds no usable RouterInfo (verified, same network, floodfill or reachable) to build a reseed bundle from.',
  ERR_NETNS:
    'Building the NAT test network failed (not root, `ip`/`nft` missing, a namespace in use); the message names the command.',
  ERR_WANLINK:
    'The WAN link forwarder (native/wanlink.c) could not be built with the C compiler, or exited: the message has its error.',
  ERR_CALLER_PROOF_MALFORMED:
    'A caller proof (x-prouter-proof) is not 496 hex digits of the v1 layout (domain, b32 addresses, lengths).',
  ERR_CALLER_PROOF_SIGNATURE:
    'A caller proof is not signed (sr25519) by the worker key it names: the caller stays anonymous.',
  ERR_CALLER_PROOF_CALLEE:
    'A caller proof names another destination as its callee: it was made for another worker.',
  ERR_CALLER_PROOF_SOURCE:
    "A caller proof names a caller address other than the stream's source destination (a replayed proof).",
  ERR_CALLER_PROOF_TIME: 'A caller proof was signed outside the window around the callee clock (±5 min).',
  ERR_CALLER_NOT_BOUND:
    "The proven caller key's newest valid binding does not name the stream's source destination.",

  ERR_DAEMON_STOPPED:
    'The daemon (or the part of it that was asked) was stopped: the operation did not complete; a stopped daemon does not start again, create a new one.',
  ERR_API_LISTEN:
    'The local API could not listen on api.host:api.port (in use, or no such local address); the cause has the system error.',
  ERR_SESSION_START_TIMEOUT:
    "The daemon's SAM session was not up before the start deadline (the router runs, but its tunnels were not built in time).",
  ERR_TEARDOWN_TIMEOUT:
    'A command did not finish tearing down within --teardown-timeout of its stop signal: it killed the processes and deleted the namespaces it started, and exited 1.',
  ERR_REGISTRY_TOKEN_WEAK:
    'The local registry was given an empty or short publish token (fewer than 16 characters): it would let anyone publish, so it does not start.',
  ERR_REGISTRY_QUOTA:
    'The publisher (a worker key, a router) holds as many records as one publisher may in the local registry (count or bytes) and none has expired.',
  ERR_REPORT_OVERLAP:
    "The usage report's period overlaps another period the same worker reported: a worker reports each instant once.",
  ERR_EVM_CHAIN_ID:
    'The EVM node serves another chain than the one configured (evm.chainId): both ids in the message.',
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export interface PRouterErrorOptions {
  cause?: unknown
  /** Extra, non-secret context: the raw SAM line, a pid, an exit code. */
  detail?: Record<string, unknown>
}

export class PRouterError extends Error {
  readonly code: ErrorCode
  readonly detail: Record<string, unknown> | undefined

  constructor(code: ErrorCode, message: string, options: PRouterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'PRouterError'
    this.code = code
    this.detail = options.detail
  }
}

export function isPRouterError(err: unknown, code?: ErrorCode): err is PRouterError {
  return err instanceof PRouterError && (code === undefined || err.code === code)
}

/** Whether `code` is one of ERROR_CODES (e.g. a code a peer sent). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code)
}

export function invalidOption(name: string, why: string): PRouterError {
  return new PRouterError('ERR_INVALID_OPTION', `option ${name}: ${why}`, { detail: { option: name } })
}
