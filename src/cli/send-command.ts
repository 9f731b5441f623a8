/**
 * `prouter send <worker> (--data <text> | --file <path>)`: a message to a worker, through the local daemon's
 * API (POST /v1/messages/{worker}). Prints the daemon's JSON answer; a refusal exits 1 with its code.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Command } from 'commander'
import { DEFAULT_API_PORT, DEFAULT_DATA_DIR } from '../constants.js'
import { invalidOption, isErrorCode, PRouterError } from '../errors.js'

interface SendOptions {
  data?: string
  file?: string
  api: string
  tokenFile?: string
  dataDir: string
  queued?: boolean
  ordered?: boolean
  timeout?: string
}

export function registerSendCommand(program: Command): void {
  program
    .command('send')
    .description('send a message to a worker by its key, through the local daemon (docs/messages.md)')
    .argument('<worker>', 'the receiving worker key (0x + 64 hex)')
    .option('--data <text>', 'the message, as UTF-8 text')
    .option('--file <path>', 'the message, read from a file (at most 64 KiB)')
    .option('--queued', 'answer once the message is in the outbox, not once it is acknowledged')
    .option('--timeout <ms>', 'how long to wait for the acknowledgement')
    .option('--ordered', 'deliver after every earlier ordered message to the same worker (numbered)')
    .option('--api <url>', 'the local API', `http://127.0.0.1:${DEFAULT_API_PORT}`)
    .option('--data-dir <dir>', 'the daemon state folder, where api.token is', DEFAULT_DATA_DIR)
    .option('--token-file <path>', 'the API token file (default <data-dir>/api.token)')
    .action(send)
}

async function send(worker: string, o: SendOptions): Promise<void> {
  const body = await payload(o)
  const token = (await readFile(o.tokenFile ?? join(o.dataDir, 'api.token'), 'utf8')).trim()
  const query = new URLSearchParams({
    ...(o.queued === true ? { mode: 'queued' } : {}),
    ...(o.ordered === true ? { ordered: 'true' } : {}),
    ...(o.timeout === undefined ? {} : { timeout: o.timeout }),
  })
  const url = `${o.api.replace(/\/$/, '')}/v1/messages/${encodeURIComponent(worker)}?${query.toString()}`
  const res = await fetch(url, { method: 'POST', body, headers: { authorization: `Bearer ${token}` } })
  const text = await res.text()
  if (res.ok) {
    process.stdout.write(`${text}\n`)
    return
  }
  throw answerError(res.status, text)
}

async function payload(o: SendOptions): Promise<Buffer> {
  if ((o.data === undefined) === (o.file === undefined))
    throw invalidOption('--data', 'give --data or --file')
  return o.data === undefined ? readFile(o.file ?? '') : Buffer.from(o.data, 'utf8')
}

function answerError(status: number, text: string): PRouterError {
  let code = 'ERR_INTERNAL'
  let message = text.slice(0, 300)
  try {
    const j = JSON.parse(text) as { code?: unknown; message?: unknown }
    if (typeof j.code === 'string') code = j.code
    if (typeof j.message === 'string') message = j.message
  } catch {
    // not JSON: keep the text
  }
  return new PRouterError(isErrorCode(code) ? code : 'ERR_INTERNAL', `${message} (HTTP ${status})`)
}
