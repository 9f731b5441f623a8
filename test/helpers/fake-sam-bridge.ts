import net from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'

/**
 * A scriptable fake SAM bridge on 127.0.0.1:0, for the client's parser and state-machine corner cases
 * (real behaviour is tested against i2pd). Each accepted connection runs a script of steps: wait for the
 * client's next line and check it, then reply — in one chunk, in tiny chunks, merged with other lines or
 * raw bytes, after a delay, cut short by a close — and optionally switch to echoing raw data.
 */

export interface BridgeStep {
  /** Wait for the client's next line and require it to match. Without it the step acts at once. */
  expect?: RegExp
  /** Wait this long (ms) before replying. */
  delay?: number
  /** Written in order: strings are lines ('\n' is added), Buffers are raw bytes. All in one write by default. */
  send?: readonly (string | Buffer)[]
  /** Write the bytes in chunks of this size, pausing `chunkDelay` ms between them. */
  chunkSize?: number
  chunkDelay?: number
  /** Write only this many bytes of `send`, then destroy the connection (close mid-reply). */
  closeAfterBytes?: number
  /** Destroy the connection after this step. */
  close?: boolean
  /** After this step, echo every byte the client sends (the connection is now a raw stream). */
  echo?: boolean
}

export type BridgeScript = readonly BridgeStep[]

export interface FakeSamBridge {
  readonly host: string
  readonly port: number
  readonly address: { host: string; port: number }
  /** Lines received, one array per connection, in accept order. */
  readonly received: string[][]
  /** Script failures (a line that did not match its `expect`). */
  readonly failures: string[]
  /** Connections accepted so far. */
  readonly connections: number
  close(): Promise<void>
}

/** `scripts[i]` runs on the i-th connection; a function gets the index and returns the script. */
export async function startFakeSamBridge(
  scripts: readonly BridgeScript[] | ((index: number) => BridgeScript),
): Promise<FakeSamBridge> {
  const pick = typeof scripts === 'function' ? scripts : (i: number): BridgeScript => scripts[i] ?? []
  const received: string[][] = []
  const failures: string[] = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    const index = received.length
    const lines: string[] = []
    received.push(lines)
    sockets.add(socket)
    socket.setNoDelay(true)
    socket.on('error', () => undefined)
    socket.on('close', () => sockets.delete(socket))
    runScript(socket, pick(index), lines).catch((err: unknown) => {
      failures.push(`connection ${index}: ${String(err)}`)
      socket.destroy()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  return {
    host: '127.0.0.1',
    port,
    address: { host: '127.0.0.1', port },
    received,
    failures,
    get connections() {
      return received.length
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve()
        })
      })
    },
  }
}

/** Shorthands for the usual steps. */
export const steps = {
  hello: (version = '3.3'): BridgeStep => ({
    expect: /^HELLO VERSION MIN=\S+ MAX=\S+$/,
    send: [`HELLO REPLY RESULT=OK VERSION=${version}`],
  }),
  reply: (expect: RegExp, ...send: (string | Buffer)[]): BridgeStep => ({ expect, send }),
  streamOk: (expect: RegExp, ...after: (string | Buffer)[]): BridgeStep => ({
    expect,
    send: ['STREAM STATUS RESULT=OK', ...after],
    echo: true,
  }),
}

async function runScript(socket: net.Socket, script: BridgeScript, lines: string[]): Promise<void> {
  const reader = createLineReader(socket, lines)
  for (const step of script) {
    if (step.expect !== undefined) {
      const line = await reader.next()
      if (line === undefined) return
      if (!step.expect.test(line))
        throw new Error(`expected ${String(step.expect)}, got ${JSON.stringify(line)}`)
    }
    if (step.delay !== undefined) await delay(step.delay)
    if (socket.destroyed) return
    if (!(await writeStep(socket, step))) return
    if (step.close === true) {
      socket.destroy()
      return
    }
    if (step.echo === true) {
      const rest = reader.detach()
      if (rest.length > 0) socket.write(rest)
      socket.pipe(socket)
      return
    }
  }
}

/** Returns false when the step closed the connection. */
async function writeStep(socket: net.Socket, step: BridgeStep): Promise<boolean> {
  const parts = (step.send ?? []).map((p) => (typeof p === 'string' ? Buffer.from(`${p}\n`) : p))
  let bytes = Buffer.concat(parts)
  const cut = step.closeAfterBytes !== undefined
  if (cut) bytes = bytes.subarray(0, step.closeAfterBytes)
  const size = step.chunkSize ?? Math.max(bytes.length, 1)
  for (let offset = 0; offset < bytes.length; offset += size) {
    if (offset > 0) await delay(step.chunkDelay ?? 2)
    if (socket.destroyed) return false
    socket.write(bytes.subarray(offset, offset + size))
  }
  if (!cut) return true
  await delay(step.chunkDelay ?? 2)
  socket.destroy()
  return false
}

interface LineReader {
  next(): Promise<string | undefined>
  /** Stop reading lines; return the bytes received past the last line. */
  detach(): Buffer
}

function createLineReader(socket: net.Socket, record: string[]): LineReader {
  let buffer = Buffer.alloc(0)
  const queue: string[] = []
  let waiter: ((line: string | undefined) => void) | undefined
  let ended = false
  const onData = (chunk: Buffer): void => {
    buffer = Buffer.concat([buffer, chunk])
    for (let end = buffer.indexOf(0x0a); end !== -1; end = buffer.indexOf(0x0a)) {
      const line = buffer.toString('utf8', 0, end).replace(/\r$/, '')
      buffer = buffer.subarray(end + 1)
      record.push(line)
      deliver(line)
    }
  }
  const deliver = (line: string | undefined): void => {
    if (waiter === undefined) {
      if (line !== undefined) queue.push(line)
      return
    }
    const wake = waiter
    waiter = undefined
    wake(line)
  }
  const onEnd = (): void => {
    ended = true
    deliver(undefined)
  }
  socket.on('data', onData)
  socket.on('close', onEnd)
  return {
    next: () => {
      const line = queue.shift()
      if (line !== undefined || ended) return Promise.resolve(line)
      return new Promise((resolve) => (waiter = resolve))
    },
    detach: () => {
      socket.off('data', onData)
      socket.off('close', onEnd)
      const rest = Buffer.concat([Buffer.from(queue.map((l) => `${l}\n`).join('')), buffer])
      buffer = Buffer.alloc(0)
      return rest
    },
  }
}
