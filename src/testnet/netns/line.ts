/** The agent protocol's one framing rule: a header line, then raw bytes. */
import type { Socket } from 'node:net'

export const MAX_LINE = 256

/** Read one `\n`-terminated line; the bytes after it are pushed back onto the socket. */
export function readLine(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      const end = buffered.indexOf(0x0a)
      if (end < 0 && buffered.length <= MAX_LINE) return
      cleanup()
      if (end < 0) {
        reject(new Error('header line too long'))
        return
      }
      socket.pause()
      const rest = buffered.subarray(end + 1)
      if (rest.length > 0) socket.unshift(rest)
      resolve(buffered.subarray(0, end).toString('utf8'))
    }
    const onEnd = () => {
      cleanup()
      reject(new Error('closed before a header line'))
    }
    const cleanup = () => {
      socket.off('data', onData)
      socket.off('end', onEnd)
      socket.off('error', onEnd)
    }
    socket.on('data', onData)
    socket.on('end', onEnd)
    socket.on('error', onEnd)
  })
}
