/**
 * Bytes of a stream's payload: what crossed the socket after the SAM handshake (HELLO, STREAM CONNECT or
 * ACCEPT, their replies and the peer line), counted by the socket itself (`bytesRead`, `bytesWritten`), so
 * every consumer (pipes, the HTTP parser reading the handle directly) is counted alike. The mark is set when
 * the control socket hands the stream on; bytes read past the last SAM line and put back (unshifted) are
 * payload.
 */
import type net from 'node:net'

const starts = new WeakMap<net.Socket, { read: number; written: number }>()

/** Called once, at hand-off: `unshifted` bytes already read belong to the payload. */
export function markPayloadStart(socket: net.Socket, unshifted: number): void {
  starts.set(socket, { read: socket.bytesRead - unshifted, written: socket.bytesWritten })
}

/** Payload bytes so far (both 0 for a socket never handed on as a stream). */
export function payloadBytes(socket: net.Socket): { read: number; written: number } {
  const start = starts.get(socket)
  if (start === undefined) return { read: 0, written: 0 }
  // bytesWritten counts queued bytes too; it is undefined once a destroyed socket dropped its buffer
  const written = (socket.bytesWritten as number | undefined) ?? start.written
  return { read: Math.max(0, socket.bytesRead - start.read), written: Math.max(0, written - start.written) }
}
