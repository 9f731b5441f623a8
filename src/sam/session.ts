import { setMaxListeners } from 'node:events'
import type net from 'node:net'
import {
  DEFAULT_SAM_CLOSE_TIMEOUT,
  DEFAULT_SAM_COMMAND_TIMEOUT,
  DEFAULT_SAM_CONNECT_TIMEOUT,
} from '../constants.js'
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { namingLookupCommand, streamAcceptCommand, streamConnectCommand, type SamCommand } from './command.js'
import { openControlSocket, type SamControlSocket } from './control-socket.js'
import { b32FromDestination, publicDestinationFromPrivate } from '../i2p/index.js'
import { parsePeerLine, type PeerLine, type SamReply } from './reply.js'
import { assertOk } from './results.js'
import { samClosedError, samProtocolError } from './sam-errors.js'
import { resolveRetryPolicy, withRetry, type RetryPolicy } from './retry.js'
import { resolveSessionInit, type ResolvedSessionInit, type SamSessionInit } from './session-options.js'
import { checkTimeout, linkSignals, remaining } from '../signals.js'

/**
 * A SAM STREAM session: one control connection holds the session (SESSION CREATE; the session lives as
 * long as that connection), and every stream gets a FRESH connection to the bridge (HELLO, then STREAM
 * CONNECT or STREAM ACCEPT) that turns into the stream's raw bytes. One session, one set of tunnels, many
 * concurrent streams. Every socket handed out is tracked so `destroy()` can destroy it.
 */

export interface SamSessionComponents {
  logger: Logger
}

export interface ConnectOptions {
  signal?: AbortSignal
  /** Deadline for each attempt (HELLO + STREAM CONNECT), in ms (default DEFAULT_SAM_CONNECT_TIMEOUT). */
  timeout?: number
  /** Retry of CANT_REACH_PEER / PEER_NOT_FOUND; `false` for a single attempt. */
  retry?: Partial<RetryPolicy> | false
}

export interface AcceptOptions {
  signal?: AbortSignal
  /** Deadline for a peer to connect, in ms (default: none). */
  timeout?: number
}

export interface LookupOptions {
  signal?: AbortSignal
  timeout?: number
}

export interface AcceptedStream {
  stream: net.Socket
  peerDestination: string
  peerB32: string
  /** SAM 3.2+: the ports the peer sent from and to. */
  fromPort?: number
  toPort?: number
}

export interface SamSession {
  readonly id: string
  /** Public destination, I2P base64. */
  readonly destination: string
  /** Private key, I2P base64 (a getter: it does not show up when the session is serialized or logged). */
  readonly privateKey: string
  readonly b32: string
  /** SAM version negotiated with the bridge. */
  readonly version: string
  /** Resolves when the session's control connection closes (the session is then gone); never rejects. */
  readonly closed: Promise<void>
  connect(destination: string, options?: ConnectOptions): Promise<net.Socket>
  accept(options?: AcceptOptions): Promise<AcceptedStream>
  lookup(name: string, options?: LookupOptions): Promise<string>
  /** End the session and its streams gracefully (bounded), refusing new calls. */
  close(): Promise<void>
  /** Destroy the control connection, every pending call and every stream handed out, at once. */
  destroy(): void
}

export async function createSamSession(
  init: SamSessionInit,
  components: SamSessionComponents,
  options: { signal?: AbortSignal } = {},
): Promise<SamSession> {
  const resolved = resolveSessionInit(init)
  options.signal?.throwIfAborted()
  const log = components.logger.child({ component: 'sam-session', session: resolved.id })
  const control = await openControlSocket({ sam: resolved.sam }, { logger: log }, { signal: options.signal })
  try {
    const timeout = resolved.createTimeout
    const reply = await control.command(resolved.command, { signal: options.signal, timeout })
    const privateKey = sessionPrivateKey(reply, `SESSION CREATE ${resolved.id} via ${control.address}`)
    const session = new Session(resolved, control, privateKey, log)
    log.info({ b32: session.b32, version: session.version }, 'SAM session created')
    return session
  } catch (err) {
    control.destroy()
    throw err
  }
}

type SessionState = 'open' | 'closing' | 'closed'

class Session implements SamSession {
  readonly id: string
  /**
   * The public destination is parsed out of the private key in SESSION STATUS DESTINATION= (the first
   * 387 + certificate length bytes), not asked for with NAMING LOOKUP NAME=ME: no extra round trip on
   * the control connection, and it does not depend on the bridge's naming service.
   */
  readonly destination: string
  readonly b32: string
  readonly version: string
  readonly closed: Promise<void>
  readonly #privateKey: string
  readonly #init: ResolvedSessionInit
  readonly #control: SamControlSocket
  readonly #log: Logger
  readonly #lifetime = new AbortController()
  readonly #streams = new Set<net.Socket>()
  #state: SessionState = 'open'
  #closing: Promise<void> | undefined

  constructor(init: ResolvedSessionInit, control: SamControlSocket, privateKey: string, log: Logger) {
    this.id = init.id
    this.#init = init
    this.#control = control
    this.#privateKey = privateKey
    this.#log = log
    this.destination = publicDestinationFromPrivate(privateKey)
    this.b32 = b32FromDestination(this.destination)
    this.version = control.version
    this.closed = control.closed
    setMaxListeners(0, this.#lifetime.signal) // every concurrent stream operation links to it
    void control.closed.then(() => {
      this.onControlClosed()
    })
  }

  get privateKey(): string {
    return this.#privateKey
  }

  async connect(destination: string, options: ConnectOptions = {}): Promise<net.Socket> {
    options.signal?.throwIfAborted()
    this.assertOpen('connect')
    const command = streamConnectCommand(this.id, checkPeerDestination(destination))
    const policy = resolveRetryPolicy(options.retry)
    const timeout = checkTimeout(options.timeout, 'timeout', DEFAULT_SAM_CONNECT_TIMEOUT)
    const op = linkSignals(options.signal, this.#lifetime.signal)
    try {
      return await withRetry(() => this.connectOnce(command, op.signal, timeout), policy, {
        signal: op.signal,
        onRetry: (err, attempt, delay) => {
          this.#log.debug({ err, attempt, delay }, 'STREAM CONNECT failed, retrying')
        },
      })
    } finally {
      op.dispose()
    }
  }

  async accept(options: AcceptOptions = {}): Promise<AcceptedStream> {
    options.signal?.throwIfAborted()
    this.assertOpen('accept')
    const deadline = Date.now() + checkTimeout(options.timeout, 'timeout', Infinity)
    const op = linkSignals(options.signal, this.#lifetime.signal)
    try {
      return await this.acceptOnce(op.signal, deadline)
    } finally {
      op.dispose()
    }
  }

  async lookup(name: string, options: LookupOptions = {}): Promise<string> {
    options.signal?.throwIfAborted()
    this.assertOpen('lookup')
    const command = namingLookupCommand(name)
    const op = linkSignals(options.signal, this.#lifetime.signal)
    try {
      const reply = await this.#control.command(command, { signal: op.signal, timeout: options.timeout })
      return lookupValue(reply, this.#control.address)
    } finally {
      op.dispose()
    }
  }

  close(): Promise<void> {
    if (this.#state === 'open') {
      this.#state = 'closing'
      this.#lifetime.abort(this.closedError('session closed'))
      this.#closing = this.closeGracefully()
    }
    return this.#closing ?? this.closed
  }

  destroy(): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.#lifetime.abort(this.closedError('session destroyed'))
    this.#control.destroy()
    for (const stream of this.#streams) stream.destroy()
  }

  // --- streams ----------------------------------------------------------------------------------

  private async connectOnce(command: SamCommand, signal: AbortSignal, timeout: number): Promise<net.Socket> {
    const deadline = Date.now() + timeout
    const control = await this.openStreamConnection(signal, timeout)
    try {
      return this.track(await control.streamConnect(command, { signal, timeout: remaining(deadline) }))
    } catch (err) {
      control.destroy()
      throw err
    }
  }

  private async acceptOnce(signal: AbortSignal, deadline: number): Promise<AcceptedStream> {
    const hello = Math.min(remaining(deadline), DEFAULT_SAM_COMMAND_TIMEOUT)
    const control = await this.openStreamConnection(signal, hello)
    try {
      const command = streamAcceptCommand(this.id)
      const { socket, peerLine } = await control.streamAccept(command, {
        signal,
        timeout: remaining(deadline),
      })
      return this.acceptedStream(socket, peerLine)
    } catch (err) {
      control.destroy()
      throw err
    }
  }

  private openStreamConnection(signal: AbortSignal, timeout: number): Promise<SamControlSocket> {
    return openControlSocket({ sam: this.#init.sam }, { logger: this.#log }, { signal, timeout })
  }

  /** The peer line is parsed before the socket is handed out; the bytes after it are already unshifted. */
  private acceptedStream(socket: net.Socket, peerLine: string): AcceptedStream {
    let peer: PeerLine
    let peerB32: string
    try {
      peer = parsePeerLine(peerLine)
      peerB32 = b32FromDestination(peer.destination)
    } catch (err) {
      socket.destroy()
      throw samProtocolError(`STREAM ACCEPT ${this.id}`, 'the peer line holds no destination', peerLine, err)
    }
    const ports = { fromPort: port(peer.values.FROM_PORT), toPort: port(peer.values.TO_PORT) }
    return { stream: this.track(socket), peerDestination: peer.destination, peerB32, ...ports }
  }

  private track(socket: net.Socket): net.Socket {
    if (this.#state !== 'open') {
      socket.destroy()
      throw this.closedError(`session ${this.#state}`)
    }
    this.#streams.add(socket)
    socket.once('close', () => this.#streams.delete(socket))
    return socket
  }

  // --- lifecycle --------------------------------------------------------------------------------

  private async closeGracefully(): Promise<void> {
    await this.#control.close()
    await Promise.all([...this.#streams].map((stream) => endSocket(stream, DEFAULT_SAM_CLOSE_TIMEOUT)))
    this.#state = 'closed'
  }

  private onControlClosed(): void {
    if (this.#state !== 'open') return
    this.#state = 'closed'
    this.#log.warn({ b32: this.b32 }, 'SAM session control connection closed: the session is gone')
    this.#lifetime.abort(this.closedError('control connection closed'))
  }

  private assertOpen(what: string): void {
    if (this.#state === 'open') return
    throw new PRouterError(
      'ERR_SAM_SESSION_CLOSED',
      `SAM session ${this.id}: cannot ${what}, it is ${this.#state}`,
      {
        detail: { state: this.#state },
      },
    )
  }

  private closedError(why: string): PRouterError {
    return samClosedError(`SAM session ${this.id}`, why)
  }
}

/** SESSION STATUS RESULT=OK's DESTINATION, checked to be a private key (both session styles). */
export function sessionPrivateKey(reply: SamReply, context: string): string {
  const privateKey = assertOk(reply, context).values.DESTINATION
  if (privateKey === undefined)
    throw samProtocolError(context, 'SESSION STATUS has no DESTINATION', reply.raw)
  try {
    publicDestinationFromPrivate(privateKey)
  } catch (err) {
    throw samProtocolError(context, 'DESTINATION is not a private key', reply.raw, err)
  }
  return privateKey
}

/** NAMING REPLY RESULT=OK's VALUE: the full destination a name stands for. */
export function lookupValue(reply: SamReply, address: string): string {
  const where = `NAMING LOOKUP via ${address}`
  const value = assertOk(reply, where).values.VALUE
  if (value === undefined || value === '') throw samProtocolError(where, 'reply has no VALUE', reply.raw)
  return value
}

/** Base64 destinations, b32 addresses and host names: letters, digits and - ~ = . only. */
function checkPeerDestination(destination: string): string {
  if (typeof destination !== 'string' || !/^[A-Za-z0-9~=.-]{1,4096}$/.test(destination)) {
    throw new PRouterError(
      'ERR_INVALID_ARGUMENT',
      'destination must be an I2P base64 destination or a .i2p address',
    )
  }
  return destination
}

function port(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return undefined
  const n = Number(value)
  return n <= 65535 ? n : undefined
}

/** Half-close, wait for the peer to close (bounded), then destroy. */
function endSocket(socket: net.Socket, timeout: number): Promise<void> {
  if (socket.closed) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), timeout)
    socket.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
    socket.end()
  })
}
