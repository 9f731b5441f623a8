import type net from 'node:net'

/** Everything the socket yields until `n` bytes are in, read with a plain 'data' listener (5 s bound). */
export function readBytes(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    const timer = setTimeout(() => {
      reject(new Error(`read ${total} of ${n} bytes`))
    }, 5000)
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      total += chunk.length
      if (total >= n) {
        clearTimeout(timer)
        resolve(Buffer.concat(chunks))
      }
    })
  })
}
