/** SAM v3 client: sessions, streams, naming, destinations. */

export {
  createSamSession,
  type AcceptedStream,
  type AcceptOptions,
  type ConnectOptions,
  type LookupOptions,
  type SamSession,
  type SamSessionComponents,
} from './session.js'
export { streamWindowOptions, type SamSessionInit, type TunnelOptions } from './session-options.js'
export {
  createSamDatagramSession,
  type SamDatagramSession,
  type SamDatagramSessionComponents,
  type SamDatagramSessionInit,
} from './datagram-session.js'
export {
  decodeForwardedDatagram,
  encodeDatagramSend,
  MAX_DATAGRAM_HEADER_BYTES,
  type ReceivedDatagram,
} from './datagram-wire.js'
export {
  generateDestination,
  samHello,
  type GeneratedDestination,
  type SamCallOptions,
} from './destination.js'
/** The I2P data formats, kept on this surface for existing callers; they live in src/i2p. */
export {
  b32FromDestination,
  base32,
  decodeI2pBase64,
  destinationLength,
  encodeI2pBase64,
  publicDestinationFromPrivate,
} from '../i2p/index.js'
export {
  openControlSocket,
  STATES,
  type AcceptedSocket,
  type CallOptions,
  type ControlSocketComponents,
  type ControlSocketInit,
  type ControlState,
  type SamControlSocket,
} from './control-socket.js'
export {
  datagramSessionCreateCommand,
  destGenerateCommand,
  formatCommand,
  formatPong,
  helloCommand,
  namingLookupCommand,
  sessionCreateCommand,
  streamAcceptCommand,
  streamConnectCommand,
  type SamCommand,
  type SamValue,
  type SessionCreateArgs,
} from './command.js'
export { parsePeerLine, parseReply, redactSecrets, type PeerLine, type SamReply } from './reply.js'
export { assertOk, errorCodeForResult, errorFromReply, isOk, SAM_RESULT_CODES } from './results.js'
export { createLineFramer, type LineFramer, type LineFramerInit } from './framing.js'
export {
  DEFAULT_RETRY_POLICY,
  isRetryableConnectError,
  resolveRetryPolicy,
  retryDelay,
  withRetry,
  type RetryOptions,
  type RetryPolicy,
} from './retry.js'
export { formatAddress, type SamAddress } from './tcp-connect.js'
export { payloadBytes } from './payload-bytes.js'
