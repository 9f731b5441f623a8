import dgram from 'node:dgram'
import { isIP } from 'node:net'
import { MIB } from '../constants.js'
import { invalidOption, PRouterError } from '../errors.js'
import type { Logger } from '../logger.js'
import { b32FromDestination, publicDestinationFromPrivate } from '../i2p/index.js'
import { datagramSessionCreateCommand, namingLookupCommand } from './command.js'
import { openControlSocket, type SamControlSocket } from './control-socket.js'
import { decodeForwardedDatagram, encodeDatagramSend, type ReceivedDatagram } from './datagram-wire.js'
import { resolveSessionArgs, type SamSessionInit } from './session-options.js'
import { lookupValue, sessionPrivateKey, type LookupOptions } from './session.js'

/**
 * A SAM DATAGRAM session (repliable, signed by the sending destination). The session lives as long as its
 * control connection; datagrams travel over UDP: out to the bridge's UDP port, in from the bridge to a
 * socket of ours that SESSION CREATE names as its HOST/PORT forward. Without that forward i2pd 2.56 writes
 * datagrams on the control connection through an 8 KiB buffer and drops larger ones.
 *
 * A forwarded packet is believed only when it comes from the bridge's UDP address: any local process can
 * send to our socket, and the sender line is what proves who sent a datagram.
 */

export interface SamDatagramSessionInit extends SamSessionInit {
  /** The bridge's UDP port (i2pd `sam.portudp`; default the SAM TCP port - 1, i2pd's own default). */
  udpPort?: number
}

export interface SamDatagramSessionComponents {
  logger: Logger
  /** Called for every datagram the bridge forwards; must not throw. */
  onDatagram: (datagram: ReceivedDatagram) => void
}

export interface SamDatagramSession {
  readonly id: string
  readonly destination: string
  readonly b32: string
  /** A getter: it does not show up when the session is serialized or logged. */
  readonly privateKey: string
  /** Resolves when the control connection closes (the session is then gone); never rejects. */
  readonly closed: Promise<void>
  /** Packets dropped on arrival: not from the bridge, or not the forward's shape. */
  readonly dropped: number
  /** Hand one datagram to the bridge; there is no delivery report (datagrams may be lost). */
  send(destination: string, payload: Uint8Array): Promise<void>
  /** NAMING LOOKUP: a b32 -> its full destination (also fetches the LeaseSet a send needs). */
  lookup(name: string, options?: LookupOptions): Promise<string>
  close(): Promise<void>
  destroy(): void
}

export async function createSamDatagramSession(
  init: SamDatagramSessionInit,
  components: SamDatagramSessionComponents,
  options: { signal?: AbortSignal } = {},
): Promise<SamDatagramSession> {
  const { udpPort, ...streamInit } = init
  const { args, createTimeout } = resolveSessionArgs(streamInit)
  const bridgeUdp = { host: init.sam.host, port: checkUdpPort(udpPort ?? init.sam.port - 1) }
  options.signal?.throwIfAborted()
  const log = components.logger.child({ component: 'sam-datagram', session: args.id })
  const udp = await bindUdp(init.sam.host)
  let control: SamControlSocket | undefined
  try {
    const forward = { host: init.sam.host, port: udp.address().port }
    control = await openControlSocket({ sam: init.sam }, { logger: log }, { signal: options.signal })
    const command = datagramSessionCreateCommand({ ...args, forward })
    const reply = await control.command(command, { signal: options.signal, timeout: createTimeout })
    const privateKey = sessionPrivateKey(
      reply,
      `SESSION CREATE STYLE=DATAGRAM ${args.id} via ${control.address}`,
    )
    return new DatagramSession(args.id, privateKey, { control, udp, bridgeUdp, log }, components)
  } catch (err) {
    control?.destroy()
    udp.close()
    throw err
  }
}

interface Parts {
  control: SamControlSocket
  udp: dgram.Socket
  bridgeUdp: { host: string; port: number }
  log: Logger
}

class DatagramSession implements SamDatagramSession {
  readonly destination: string
  readonly b32: string
  readonly closed: Promise<void>
  dropped = 0
  readonly #privateKey: string
  readonly #parts: Parts

  constructor(
    readonly id: string,
    privateKey: string,
    parts: Parts,
    components: SamDatagramSessionComponents,
  ) {
    this.#privateKey = privateKey
    this.#parts = parts
    this.destination = publicDestinationFromPrivate(privateKey)
    this.b32 = b32FromDestination(this.destination)
    this.closed = parts.control.closed
    parts.udp.on('message', (packet, from) => {
      this.onPacket(packet, from, components.onDatagram)
    })
    void this.closed.then(() => parts.udp.close())
  }

  get privateKey(): string {
    return this.#privateKey
  }

  send(destination: string, payload: Uint8Array): Promise<void> {
    const packet = encodeDatagramSend(this.id, destination, payload)
    const { udp, bridgeUdp } = this.#parts
    return new Promise((resolve, reject) => {
      udp.send(packet, bridgeUdp.port, bridgeUdp.host, (err) => {
        if (err === null) resolve()
        else
          reject(new PRouterError('ERR_SAM_CLOSED', `SAM datagram ${this.id}: send failed`, { cause: err }))
      })
    })
  }

  async lookup(name: string, options: LookupOptions = {}): Promise<string> {
    const { control } = this.#parts
    return lookupValue(await control.command(namingLookupCommand(name), options), control.address)
  }

  close(): Promise<void> {
    return this.#parts.control.close()
  }

  destroy(): void {
    this.#parts.control.destroy()
  }

  private onPacket(packet: Buffer, from: dgram.RemoteInfo, deliver: (d: ReceivedDatagram) => void): void {
    const { bridgeUdp, log } = this.#parts
    if (from.address !== bridgeUdp.host || from.port !== bridgeUdp.port) {
      this.dropped++
      log.debug({ from: `${from.address}:${from.port}` }, 'datagram not from the SAM bridge dropped')
      return
    }
    try {
      deliver(decodeForwardedDatagram(packet))
    } catch (err) {
      this.dropped++
      log.debug({ err }, 'forwarded datagram dropped')
    }
  }
}

function checkUdpPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalidOption('udpPort', `must be an integer in 1..65535, got ${String(port)}`)
  }
  return port
}

function bindUdp(host: string): Promise<dgram.Socket> {
  if (isIP(host) === 0) throw invalidOption('sam.host', 'must be an IP address for datagrams (UDP forward)')
  // a burst of datagrams arrives faster than one event-loop turn reads them: give the kernel room
  const udp = dgram.createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4', recvBufferSize: 4 * MIB })
  return new Promise((resolve, reject) => {
    udp.once('error', reject)
    udp.bind(0, host, () => {
      udp.off('error', reject)
      udp.on('error', () => undefined)
      resolve(udp)
    })
  })
}
