/**
 * POST /v1/messages/{worker}[?mode=ack|queued&timeout=<ms>]   body: the message (at most 64 KiB)
 *
 *   mode=ack (default)  200 { id, status: 'delivered', attempts } once the receiver's service took it;
 *                       504 ERR_MESSAGE_TIMEOUT after `timeout` (the message stays queued and is still sent)
 *   mode=queued         202 { id, status: 'queued' } once the message is in the outbox on disk
 *   ordered=true        numbered, and delivered after every earlier ordered message to the same worker
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { MAX_MESSAGE_BYTES, MINUTE } from '../constants.js'
import { PRouterError } from '../errors.js'
import type { SendOptions, SendResult } from '../messages/sender.js'
import { workerKeyFromName } from '../proxy/worker-name.js'

export const MESSAGES_ROUTE = /^\/v1\/messages\/([^/?]+)(\?.*)?$/

export interface MessagesApi {
  send(workerKey: string, payload: Buffer, options?: SendOptions): Promise<SendResult>
}

export async function postMessage(
  req: IncomingMessage,
  res: ServerResponse,
  match: RegExpExecArray,
  messaging: MessagesApi | undefined,
): Promise<void> {
  if (messaging === undefined) {
    throw new PRouterError('ERR_MESSAGE_DISABLED', 'messages are not enabled here (messages.enabled)')
  }
  if (req.method !== 'POST') throw new PRouterError('ERR_NOT_FOUND', 'messages are sent with POST')
  const workerKey = workerKeyFromName(match[1] ?? '')
  const options = sendOptions(new URLSearchParams(match[2] ?? ''))
  const payload = await readBody(req)
  const controller = new AbortController()
  res.once('close', () => {
    controller.abort(new PRouterError('ERR_API_BAD_REQUEST', 'the client went away'))
  })
  const result = await messaging.send(workerKey, payload, { ...options, signal: controller.signal })
  const text = JSON.stringify(result)
  res.writeHead(result.status === 'queued' ? 202 : 200, { 'content-type': 'application/json' })
  res.end(text)
}

function sendOptions(params: URLSearchParams): SendOptions {
  const mode = params.get('mode') ?? 'ack'
  if (mode !== 'ack' && mode !== 'queued') throw bad(`mode must be ack or queued, got "${mode.slice(0, 20)}"`)
  const timeout = params.get('timeout')
  if (
    timeout !== null &&
    (!/^\d{1,7}$/.test(timeout) || Number(timeout) < 1 || Number(timeout) > 10 * MINUTE)
  ) {
    throw bad(`timeout must be 1..${10 * MINUTE} ms`)
  }
  const ordered = params.get('ordered') ?? 'false'
  if (ordered !== 'true' && ordered !== 'false') throw bad(`ordered must be true or false`)
  return {
    wait: mode === 'ack',
    ordered: ordered === 'true',
    ...(timeout === null ? {} : { timeout: Number(timeout) }),
  }
}

/** The whole body, refused as soon as it passes the limit (the rest is not read). */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > MAX_MESSAGE_BYTES) throw tooLarge(declared)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_MESSAGE_BYTES) throw tooLarge(size)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

function tooLarge(bytes: number): PRouterError {
  return new PRouterError(
    'ERR_MESSAGE_TOO_LARGE',
    `a message is at most ${MAX_MESSAGE_BYTES} bytes, got ${bytes}+`,
  )
}

function bad(why: string): PRouterError {
  return new PRouterError('ERR_API_BAD_REQUEST', why)
}
