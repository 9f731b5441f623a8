import net from 'node:net'
import { invalidOption, PRouterError } from '../errors.js'

export interface SamAddress {
  readonly host: string
  readonly port: number
}

export interface TcpConnectOptions {
  signal?: AbortSignal | undefined
  /** Deadline for the TCP handshake, in ms. */
  timeout: number
}

export function formatAddress(address: SamAddress): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}

export function validateSamAddress(address: SamAddress, name = 'sam'): void {
  if (typeof address.host !== 'string' || address.host === '')
    throw invalidOption(`${name}.host`, 'must be set')
  if (!Number.isInteger(address.port) || address.port < 1 || address.port > 65535) {
    throw invalidOption(`${name}.port`, `must be an integer in 1..65535, got ${String(address.port)}`)
  }
}

/**
 * Open a TCP connection to the SAM bridge. Failure or deadline -> ERR_SAM_CONNECT naming host:port;
 * abort -> the signal's reason. One `done()` removes every listener and the timer, whatever happens.
 */
export function connectTcp(address: SamAddress, options: TcpConnectOptions): Promise<net.Socket> {
  const { signal, timeout } = options
  signal?.throwIfAborted()
  const where = formatAddress(address)
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address.host, port: address.port })
    const fail = (err: Error): void => {
      done()
      socket.destroy()
      reject(err)
    }
    const onTimeout = (): void => {
      fail(connectError(`no connection to the SAM bridge at ${where} within ${timeout} ms`, address))
    }
    const onError = (err: Error): void => {
      fail(connectError(`cannot connect to the SAM bridge at ${where}: ${err.message}`, address, err))
    }
    const onAbort = (): void => {
      fail(signal?.reason as Error)
    }
    const onConnect = (): void => {
      done()
      socket.setNoDelay(true)
      resolve(socket)
    }
    const timer = Number.isFinite(timeout) ? setTimeout(onTimeout, timeout) : undefined
    function done(): void {
      clearTimeout(timer)
      socket.off('connect', onConnect)
      socket.off('error', onError)
      signal?.removeEventListener('abort', onAbort)
    }
    socket.once('connect', onConnect)
    socket.once('error', onError)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function connectError(message: string, address: SamAddress, cause?: Error): PRouterError {
  return new PRouterError('ERR_SAM_CONNECT', message, {
    cause,
    detail: { host: address.host, port: address.port },
  })
}
