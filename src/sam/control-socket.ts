import type net from 'node:net'
import {
  DEFAULT_SAM_CLOSE_TIMEOUT,
  DEFAULT_SAM_COMMAND_TIMEOUT,
  DEFAULT_SAM_CONNECT_TIMEOUT,
  SAM_MAX_VERSION,
  SAM_MIN_VERSION,
} from '../constants.js'
import { PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { formatPong, helloCommand, type SamCommand } from './command.js'
import { createLineFramer, type LineFramer } from './framing.js'
import { parseReply, redactSecrets, type SamReply } from './reply.js'
import { errorFromReply, isOk } from './results.js'
import { RequestFifo, type FifoEntry } from './request-fifo.js'
import { samClosedError, samInvalidStateError, samProtocolError, samTimeoutError } from './sam-errors.js'
import { checkTimeout, remaining } from '../signals.js'
import { connectTcp, formatAddress, validateSamAddress, type SamAddress } from './tcp-connect.js'
import { markPayloadStart } from './payload-bytes.js'

/**
 * One TCP connection to a SAM bridge. Commands wait in a FIFO and go out one at a time: the next is
 * written when the previous one's reply is in. Each has its own signal and deadline. A STREAM CONNECT or
 * STREAM ACCEPT dedicates the connection to one stream: on RESULT=OK (and, for ACCEPT, the peer line)
 * the parser is detached, the bytes read past the line are unshifted and the net.Socket is handed on.
 *
 *   handshaking --HELLO OK--> ready --STREAM CONNECT OK------------------------> streaming (handed on)
 *                               |  \--STREAM ACCEPT OK--> accepting --peer line--/
 *                               \--close()--> closing --bridge closes--> closed   (any error -> closed)
 */

export const STATES = {
  HANDSHAKING: 'handshaking',
  READY: 'ready',
  STREAM_PENDING: 'stream-pending',
  ACCEPTING: 'accepting',
  STREAMING: 'streaming',
  CLOSING: 'closing',
  CLOSED: 'closed',
} as const

export type ControlState = (typeof STATES)[keyof typeof STATES]

const FRAMING_STATES: ReadonlySet<ControlState> = new Set([
  STATES.HANDSHAKING,
  STATES.READY,
  STATES.STREAM_PENDING,
  STATES.ACCEPTING,
  STATES.CLOSING,
])

export interface ControlSocketInit {
  sam: SamAddress
  minVersion?: string
  maxVersion?: string
  maxLineBytes?: number
  /** Bound on a graceful close before the socket is destroyed (ms). */
  closeTimeout?: number
}

export interface ControlSocketComponents {
  logger: Logger
}

export interface CallOptions {
  signal?: AbortSignal | undefined
  /** Deadline in ms; Infinity for none. */
  timeout?: number | undefined
}

export interface AcceptedSocket {
  socket: net.Socket
  /** The line the bridge sent before the peer's data: `$destination [FROM_PORT=… TO_PORT=…]`. */
  peerLine: string
}

export interface SamControlSocket {
  /** host:port of the bridge. */
  readonly address: string
  /** The SAM version the bridge chose in its HELLO REPLY. */
  readonly version: string
  readonly state: ControlState
  /** Resolves when the connection closes or is handed on as a raw stream; never rejects. */
  readonly closed: Promise<void>
  /** Send a command and resolve with its reply, whatever its RESULT (check it with `assertOk`). */
  command(command: SamCommand, options?: CallOptions): Promise<SamReply>
  /** STREAM CONNECT: resolve with the raw socket on RESULT=OK, reject with the mapped error otherwise. */
  streamConnect(command: SamCommand, options?: CallOptions): Promise<net.Socket>
  /** STREAM ACCEPT: resolve with the raw socket and the peer line once a peer connects. */
  streamAccept(command: SamCommand, options?: CallOptions): Promise<AcceptedSocket>
  /** Finish the queued commands, then end the connection (bounded by closeTimeout). */
  close(): Promise<void>
  /** Close at once; pending commands reject with `err` or ERR_SAM_CLOSED. */
  destroy(err?: Error): void
}

/** Connect to the bridge and negotiate a version with HELLO; `timeout` bounds both steps together. */
export async function openControlSocket(
  init: ControlSocketInit,
  components: ControlSocketComponents,
  options: CallOptions = {},
): Promise<SamControlSocket> {
  validateSamAddress(init.sam)
  const timeout = checkTimeout(options.timeout, 'timeout', DEFAULT_SAM_COMMAND_TIMEOUT)
  options.signal?.throwIfAborted()
  const deadline = Date.now() + timeout
  const socket = await connectTcp(init.sam, { signal: options.signal, timeout })
  const control = new ControlSocket(socket, init, components)
  try {
    await control.handshake({ signal: options.signal, timeout: remaining(deadline) })
    return control
  } catch (err) {
    control.destroy()
    throw err
  }
}

type Mode = 'reply' | 'raw' | 'accept'

interface Outcome {
  reply: SamReply
  socket?: net.Socket
  peerLine?: string
}

interface Request {
  readonly command: SamCommand
  readonly mode: Mode
  /** ACCEPT: the STREAM STATUS reply, kept while waiting for the peer line. */
  status?: SamReply
}

type Entry = FifoEntry<Request>

class ControlSocket implements SamControlSocket {
  readonly address: string
  readonly closed: Promise<void>
  version = ''
  private readonly where: string
  #state: ControlState = STATES.HANDSHAKING
  private readonly socket: net.Socket
  private readonly log: Logger
  private readonly framer: LineFramer
  private readonly init: ControlSocketInit
  private readonly fifo: RequestFifo<Request, Outcome>
  private lastError: Error | undefined
  private writeBlocked = false
  private closeTimer: NodeJS.Timeout | undefined
  private resolveClosed: () => void = () => undefined

  constructor(socket: net.Socket, init: ControlSocketInit, components: ControlSocketComponents) {
    this.socket = socket
    this.init = init
    this.address = formatAddress(init.sam)
    this.where = `SAM connection to ${this.address}`
    this.log = components.logger.child({ component: 'sam', sam: this.address })
    this.framer = createLineFramer({ maxLineBytes: init.maxLineBytes })
    this.fifo = new RequestFifo((entry) => {
      this.onGiveUp(entry)
    })
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve))
    socket.on('readable', this.onReadable)
    socket.on('drain', this.onDrain)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
  }

  get state(): ControlState {
    return this.#state
  }

  async handshake(options: CallOptions): Promise<void> {
    const { minVersion = SAM_MIN_VERSION, maxVersion = SAM_MAX_VERSION } = this.init
    const command = helloCommand(minVersion, maxVersion)
    const { reply } = await this.request(command, 'reply', options.signal, options.timeout ?? Infinity)
    if (!isOk(reply)) throw errorFromReply(reply, this.context(command))
    const version = reply.values.VERSION
    if (version === undefined || version === '') {
      throw samProtocolError(this.context(command), 'HELLO REPLY has no VERSION', reply.raw)
    }
    this.version = version
    if (this.#state === STATES.HANDSHAKING) this.#state = STATES.READY
  }

  async command(command: SamCommand, options: CallOptions = {}): Promise<SamReply> {
    options.signal?.throwIfAborted()
    this.assertState(command, STATES.READY)
    const timeout = checkTimeout(options.timeout, 'timeout', DEFAULT_SAM_COMMAND_TIMEOUT)
    const { reply } = await this.request(command, 'reply', options.signal, timeout)
    return reply
  }

  async streamConnect(command: SamCommand, options: CallOptions = {}): Promise<net.Socket> {
    const timeout = this.beginStream(command, options, DEFAULT_SAM_CONNECT_TIMEOUT)
    const { socket } = await this.request(command, 'raw', options.signal, timeout)
    if (socket === undefined) throw samProtocolError(this.context(command), 'no socket after RESULT=OK')
    return socket
  }

  async streamAccept(command: SamCommand, options: CallOptions = {}): Promise<AcceptedSocket> {
    const timeout = this.beginStream(command, options, Infinity)
    const { socket, peerLine } = await this.request(command, 'accept', options.signal, timeout)
    if (socket === undefined || peerLine === undefined) {
      throw samProtocolError(this.context(command), 'no peer line')
    }
    return { socket, peerLine }
  }

  close(): Promise<void> {
    if (this.#state === STATES.STREAM_PENDING || this.#state === STATES.ACCEPTING) this.destroy()
    if (this.#state !== STATES.READY && this.#state !== STATES.HANDSHAKING) return this.closed
    this.#state = STATES.CLOSING
    this.closeTimer = setTimeout(() => {
      this.destroy()
    }, this.init.closeTimeout ?? DEFAULT_SAM_CLOSE_TIMEOUT)
    this.closeTimer.unref()
    void this.fifo.whenIdle().then(() => {
      if (this.#state === STATES.CLOSING) this.socket.end()
    })
    return this.closed
  }

  destroy(err?: Error): void {
    if (this.#state === STATES.CLOSED || this.#state === STATES.STREAMING) return
    this.#state = STATES.CLOSED
    if (err !== undefined && !this.fifo.busy) this.log.warn({ err }, 'SAM connection failed')
    this.fifo.failAll(err ?? samClosedError(this.where, 'destroyed'))
    this.socket.destroy()
  }

  // --- requests ---------------------------------------------------------------------------------

  private request(
    command: SamCommand,
    mode: Mode,
    signal: AbortSignal | undefined,
    timeout: number,
  ): Promise<Outcome> {
    const outcome = this.fifo.push(
      { command, mode },
      { signal, timeout, timeoutError: () => samTimeoutError(this.context(command), timeout) },
    )
    this.writeNext()
    return outcome
  }

  /** After a timeout or an abort: a stream command cannot be taken back, its connection was its own. */
  private onGiveUp(entry: Entry): void {
    if (entry.written && entry.meta.mode !== 'reply') this.destroy()
  }

  private writeNext(): void {
    const head = this.fifo.head
    if (head === undefined || head.written || !FRAMING_STATES.has(this.#state)) return
    head.written = true
    this.log.debug({ command: redactSecrets(head.meta.command.line.trimEnd()) }, 'SAM command')
    this.write(head.meta.command.line)
  }

  // --- reading ----------------------------------------------------------------------------------

  private readonly onReadable = (): void => {
    while (!this.writeBlocked && FRAMING_STATES.has(this.#state)) {
      const chunk = this.socket.read() as Buffer | null
      if (chunk === null) return
      this.consume(chunk)
    }
  }

  private consume(chunk: Buffer): void {
    try {
      this.framer.append(chunk)
      let line = this.framer.nextLine()
      while (line !== undefined) {
        this.onLine(line)
        line = FRAMING_STATES.has(this.#state) ? this.framer.nextLine() : undefined
      }
    } catch (err) {
      this.destroy(
        err instanceof PRouterError ? err : samClosedError(this.where, 'line handling failed', err),
      )
    }
  }

  private onLine(line: string): void {
    if (this.#state === STATES.ACCEPTING) {
      this.onPeerLine(line)
      return
    }
    const ping = /^PING(?:[ \t](.*))?$/.exec(line)
    if (ping !== null) {
      this.write(formatPong(ping[1] ?? ''))
      return
    }
    const head = this.fifo.head
    if (head?.written !== true || line.startsWith('PONG')) {
      this.log.warn({ line: redactSecrets(line) }, 'unsolicited SAM line ignored')
      return
    }
    this.onReply(head, this.checkReply(head.meta.command, parseReply(line)))
  }

  /** The reply must answer the command; i2pd answers some failures of any command with SESSION STATUS. */
  private checkReply(command: SamCommand, reply: SamReply): SamReply {
    const { topic, verb } = command.expect
    const failure = reply.values.RESULT !== undefined && !isOk(reply)
    if ((reply.topic === topic && reply.verb === verb) || failure) return reply
    throw samProtocolError(
      this.context(command),
      `expected ${topic} ${verb}, got ${reply.topic} ${reply.verb}`,
      reply.raw,
    )
  }

  private onReply(head: Entry, reply: SamReply): void {
    const ok = isOk(reply)
    const { mode, command } = head.meta
    if (mode === 'accept' && ok && !head.settled) {
      head.meta.status = reply
      this.#state = STATES.ACCEPTING
      return
    }
    this.fifo.shift()
    if (mode === 'reply') {
      this.fifo.resolve(head, { reply })
      this.writeNext()
    } else if (!ok || head.settled) {
      this.fifo.reject(head, errorFromReply(reply, this.context(command)))
      this.destroy() // the connection was dedicated to this stream: it is of no further use
    } else {
      this.fifo.resolve(head, { reply, socket: this.handOff() })
    }
  }

  private onPeerLine(line: string): void {
    const head = this.fifo.shift()
    const status = head?.meta.status
    if (head === undefined || status === undefined) {
      throw samProtocolError(this.where, 'peer line without an ACCEPT')
    }
    this.fifo.resolve(head, { reply: status, peerLine: line, socket: this.handOff() })
  }

  /** Detach the parser, put the bytes read past the last line back into the socket, hand the socket on. */
  private handOff(): net.Socket {
    const rest = this.framer.takeRemainder()
    this.detach()
    this.#state = STATES.STREAMING
    markPayloadStart(this.socket, rest.length)
    if (rest.length > 0) this.socket.unshift(rest)
    this.resolveClosed()
    return this.socket
  }

  private detach(): void {
    clearTimeout(this.closeTimer)
    this.socket.off('readable', this.onReadable)
    this.socket.off('drain', this.onDrain)
    this.socket.off('error', this.onError)
    this.socket.off('close', this.onClose)
    // Whoever takes the socket adds its own listeners; until then an error must not crash the process.
    this.socket.on('error', (err) => {
      this.log.debug({ err }, 'SAM stream socket error')
    })
  }

  // --- socket events ----------------------------------------------------------------------------

  /** Commands are one short line each and wait for their reply; a full buffer only pauses reading. */
  private write(line: string): void {
    if (!this.socket.write(line)) this.writeBlocked = true
  }

  private readonly onDrain = (): void => {
    this.writeBlocked = false
    this.onReadable()
  }

  private readonly onError = (err: Error): void => {
    this.lastError = err
    this.log.debug({ err }, 'SAM socket error')
  }

  private readonly onClose = (): void => {
    this.#state = STATES.CLOSED
    clearTimeout(this.closeTimer)
    this.fifo.failAll(samClosedError(this.where, 'connection closed', this.lastError))
    this.resolveClosed()
  }

  // --- states and errors ------------------------------------------------------------------------

  private assertState(command: SamCommand, allowed: ControlState): void {
    if (this.#state !== allowed) throw samInvalidStateError(this.context(command), this.#state)
  }

  /** A stream command needs the connection to itself: ready, with nothing queued. */
  private beginStream(command: SamCommand, options: CallOptions, fallback: number): number {
    options.signal?.throwIfAborted()
    this.assertState(command, STATES.READY)
    if (this.fifo.size > 0) {
      throw samInvalidStateError(this.context(command), this.#state, 'other commands are pending')
    }
    const timeout = checkTimeout(options.timeout, 'timeout', fallback)
    this.#state = STATES.STREAM_PENDING
    return timeout
  }

  private context(command: SamCommand): string {
    return `${command.line.split(' ', 2).join(' ').trimEnd()} via ${this.address}`
  }
}
