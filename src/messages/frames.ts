/**
 * What one datagram between two PRouters carries: a fragment of a signed message (or request), an
 * acknowledgement, a request's answer, or a batch of those (several small messages, or several ACKs, in one
 * datagram).
 *
 *   DATA   'P' 0x01 | id (16) | index (u16 BE) | count (u16 BE) | total length (u32 BE) | fragment bytes
 *   ACK    'P' 0x02 | id (16) | status (u8) | code (ASCII, 0..64 bytes)
 *   BATCH  'P' 0x03 | n (u8, 1..255) | n × (length (u16 BE) | a DATA, ACK or ANSWER frame); at most MAX_BATCH_BYTES
 *   ANSWER 'P' 0x04 | id (16) | the answer to request `id` (request-wire.ts), 1..MAX_ANSWER_BYTES bytes
 *
 * A message of `total` bytes is cut into count = ceil(total / MESSAGE_FRAGMENT_BYTES) fragments, all of
 * MESSAGE_FRAGMENT_BYTES but the last, so a fragment's length follows from (index, count, total) and
 * anything else is refused. ACK status 0: delivered (the service answered 2xx, or it had before);
 * 1: refused for good (`code` says why; the sender stops retrying); 2: busy, retry later.
 */
import { MAX_MESSAGE_BYTES, MESSAGE_FRAGMENT_BYTES } from '../constants.js'
import { PRouterError } from '../errors.js'

export const DATA_HEADER_BYTES = 26
const MAGIC = 0x50
const TYPE_DATA = 0x01
const TYPE_ACK = 0x02
const TYPE_BATCH = 0x03
const TYPE_ANSWER = 0x04
const ID_END = 18
/** An answer's bytes in one ANSWER frame at most; a longer answer is fetched over a stream (request-wire.ts). */
export const MAX_ANSWER_BYTES = MESSAGE_FRAGMENT_BYTES
/** A batch stays under the size above which i2pd loses datagrams far more often (see constants.ts). */
export const MAX_BATCH_BYTES = MESSAGE_FRAGMENT_BYTES + 512
const MAX_BATCH_FRAMES = 255
/** The whole signed message (header + payload) is at most this long. */
export const MAX_WIRE_MESSAGE_BYTES = MAX_MESSAGE_BYTES + 211

export const ACK_STATUS = { delivered: 0, refused: 1, busy: 2 } as const
export type AckStatus = keyof typeof ACK_STATUS

export interface DataFrame {
  readonly type: 'data'
  readonly id: string
  readonly index: number
  readonly count: number
  readonly total: number
  readonly bytes: Buffer
}

export interface AckFrame {
  readonly type: 'ack'
  readonly id: string
  readonly status: AckStatus
  readonly code: string
}

export interface AnswerFrame {
  readonly type: 'answer'
  readonly id: string
  readonly bytes: Buffer
}

export type Frame = DataFrame | AckFrame | AnswerFrame

/** The signed message cut into DATA frames. */
export function fragment(id: string, message: Buffer): Buffer[] {
  if (message.length > MAX_WIRE_MESSAGE_BYTES || message.length === 0) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `a message is 1..${MAX_WIRE_MESSAGE_BYTES} bytes`)
  }
  const count = Math.ceil(message.length / MESSAGE_FRAGMENT_BYTES)
  const frames: Buffer[] = []
  for (let index = 0; index < count; index++) {
    const header = Buffer.alloc(DATA_HEADER_BYTES)
    header.writeUInt8(MAGIC, 0)
    header.writeUInt8(TYPE_DATA, 1)
    header.write(id, 2, 'hex')
    header.writeUInt16BE(index, 18)
    header.writeUInt16BE(count, 20)
    header.writeUInt32BE(message.length, 22)
    const start = index * MESSAGE_FRAGMENT_BYTES
    frames.push(Buffer.concat([header, message.subarray(start, start + MESSAGE_FRAGMENT_BYTES)]))
  }
  return frames
}

export function encodeAck(id: string, status: AckStatus, code = ''): Buffer {
  if (!/^[A-Z0-9_]{0,64}$/.test(code))
    throw new PRouterError('ERR_INVALID_ARGUMENT', 'an ack code is A-Z 0-9 _')
  const frame = Buffer.alloc(19 + code.length)
  frame.writeUInt8(MAGIC, 0)
  frame.writeUInt8(TYPE_ACK, 1)
  frame.write(id, 2, 'hex')
  frame.writeUInt8(ACK_STATUS[status], 18)
  frame.write(code, 19, 'latin1')
  return frame
}

export function encodeAnswer(id: string, answer: Buffer): Buffer {
  if (answer.length === 0 || answer.length > MAX_ANSWER_BYTES) {
    throw new PRouterError('ERR_INVALID_ARGUMENT', `an answer frame carries 1..${MAX_ANSWER_BYTES} bytes`)
  }
  const header = Buffer.alloc(ID_END)
  header.writeUInt8(MAGIC, 0)
  header.writeUInt8(TYPE_ANSWER, 1)
  header.write(id, 2, 'hex')
  return Buffer.concat([header, answer])
}

/** Frames (DATA, ACK or ANSWER, each whole) in one datagram; undefined if they do not fit in one. */
export function encodeBatch(frames: readonly Buffer[]): Buffer | undefined {
  const size = batchBytes(frames)
  if (frames.length === 0 || frames.length > MAX_BATCH_FRAMES || size > MAX_BATCH_BYTES) return undefined
  const out = Buffer.alloc(size)
  out.writeUInt8(MAGIC, 0)
  out.writeUInt8(TYPE_BATCH, 1)
  out.writeUInt8(frames.length, 2)
  let at = 3
  for (const f of frames) {
    out.writeUInt16BE(f.length, at)
    out.set(f, at + 2)
    at += 2 + f.length
  }
  return out
}

/** Whether `frames` plus `frame` still fit in one batch. */
export function fitsInBatch(frames: readonly Buffer[], frame: Buffer): boolean {
  return frames.length < MAX_BATCH_FRAMES && batchBytes(frames) + 2 + frame.length <= MAX_BATCH_BYTES
}

/** A batch's size: its 3-byte header, and a 2-byte length before each frame. */
function batchBytes(frames: readonly Buffer[]): number {
  return frames.reduce((sum, f) => sum + 2 + f.length, 3)
}

/** The frames a datagram carries: one, or the frames of a batch (a batch in a batch is refused). */
export function decodeDatagram(datagram: Buffer): Frame[] {
  if (datagram.length < 3 || datagram[0] !== MAGIC || datagram[1] !== TYPE_BATCH)
    return [decodeFrame(datagram)]
  if (datagram.length > MAX_BATCH_BYTES) throw malformed(`a batch of ${datagram.length} bytes`)
  const n = datagram.readUInt8(2)
  const frames: Frame[] = []
  let at = 3
  for (let i = 0; i < n; i++) {
    if (at + 2 > datagram.length) throw malformed('a batch shorter than its count')
    const length = datagram.readUInt16BE(at)
    const inner = datagram.subarray(at + 2, at + 2 + length)
    if (inner.length !== length) throw malformed('a batch shorter than its frames')
    if (inner[1] === TYPE_BATCH) throw malformed('a batch in a batch')
    frames.push(decodeFrame(inner))
    at += 2 + length
  }
  if (n === 0 || at !== datagram.length) throw malformed('a batch longer or shorter than its frames')
  return frames
}

export function decodeFrame(datagram: Buffer): Frame {
  if (datagram.length < 19 || datagram[0] !== MAGIC) throw malformed('not a PRouter frame')
  const id = datagram.toString('hex', 2, 18)
  if (datagram[1] === TYPE_ACK) return decodeAck(id, datagram)
  if (datagram[1] === TYPE_ANSWER) return decodeAnswer(id, datagram)
  if (datagram[1] !== TYPE_DATA || datagram.length < DATA_HEADER_BYTES) throw malformed('unknown frame type')
  const frame: DataFrame = {
    type: 'data',
    id,
    index: datagram.readUInt16BE(18),
    count: datagram.readUInt16BE(20),
    total: datagram.readUInt32BE(22),
    bytes: datagram.subarray(DATA_HEADER_BYTES),
  }
  checkData(frame)
  return frame
}

function decodeAck(id: string, datagram: Buffer): AckFrame {
  const status = Object.entries(ACK_STATUS).find(([, value]) => value === datagram[18])?.[0]
  const code = datagram.toString('latin1', 19)
  if (status === undefined || !/^[A-Z0-9_]{0,64}$/.test(code)) throw malformed('bad ack')
  return { type: 'ack', id, status: status as AckStatus, code }
}

function decodeAnswer(id: string, datagram: Buffer): AnswerFrame {
  const bytes = datagram.subarray(ID_END)
  if (bytes.length === 0 || bytes.length > MAX_ANSWER_BYTES)
    throw malformed(`an answer of ${bytes.length} bytes`)
  return { type: 'answer', id, bytes }
}

/** The fragment's length must follow from (index, count, total): no overlaps, no oversized claims. */
function checkData(f: DataFrame): void {
  if (f.total === 0 || f.total > MAX_WIRE_MESSAGE_BYTES) throw malformed(`total length ${f.total}`)
  if (f.count !== Math.ceil(f.total / MESSAGE_FRAGMENT_BYTES)) throw malformed(`count ${f.count}`)
  if (f.index >= f.count) throw malformed(`index ${f.index} of ${f.count}`)
  const expected = f.index < f.count - 1 ? MESSAGE_FRAGMENT_BYTES : f.total - f.index * MESSAGE_FRAGMENT_BYTES
  if (f.bytes.length !== expected) throw malformed(`fragment ${f.index} of ${f.bytes.length} bytes`)
}

function malformed(why: string): PRouterError {
  return new PRouterError('ERR_MESSAGE_MALFORMED', `message frame: ${why}`)
}
