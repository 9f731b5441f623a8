/**
 * Handing a verified message to the worker's own service: `POST <service url><path>` with the payload as
 * the body and who sent it in headers. 2xx: delivered. 4xx: the service refuses it (ERR_MESSAGE_REJECTED,
 * final). 5xx, no answer, or a timeout: try again later (ERR_MESSAGE_SERVICE_FAILED,
 * ERR_SERVICE_UNREACHABLE, ERR_REQUEST_TIMEOUT; the sender retries).
 *
 *   x-prouter-caller       the sender's worker key (0x…), or `anonymous`
 *   x-prouter-message-id   32 hex digits; the same id is never delivered twice while it can still arrive
 *   x-prouter-message-time the sender's signing time, ms since the epoch
 *   x-prouter-message-seq  an ordered message's number in its sender's order to this worker (1, 2, 3 …)
 */
import { DEFAULT_MESSAGE_SERVICE_TIMEOUT } from '../constants.js'
import { PRouterError } from '../errors.js'
import type { Message } from './envelope.js'

export interface ServiceDeliveryInit {
  /** `http://host:port[/base]`; undefined: every message is answered ERR_NO_SERVICE (retry). */
  serviceUrl: string | undefined
  /** Appended to the service URL, e.g. `/prouter/messages`. */
  path: string
  timeout?: number
}

export function createServiceDelivery(
  init: ServiceDeliveryInit,
): (message: Message, caller: string | undefined) => Promise<void> {
  const timeout = init.timeout ?? DEFAULT_MESSAGE_SERVICE_TIMEOUT
  const url = init.serviceUrl === undefined ? undefined : `${init.serviceUrl.replace(/\/$/, '')}${init.path}`
  return async (message, caller) => {
    if (url === undefined) throw new PRouterError('ERR_NO_SERVICE', 'no service.url is configured')
    const response = await post(url, message, caller, timeout)
    await response.body?.cancel()
    if (response.status >= 200 && response.status < 300) return
    const code = response.status < 500 ? 'ERR_MESSAGE_REJECTED' : 'ERR_MESSAGE_SERVICE_FAILED'
    throw new PRouterError(code, `service answered message ${message.id} with ${response.status}`, {
      detail: { status: response.status },
    })
  }
}

async function post(
  url: string,
  message: Message,
  caller: string | undefined,
  timeout: number,
): Promise<Response> {
  try {
    return await fetch(url, {
      method: 'POST',
      body: message.payload,
      signal: AbortSignal.timeout(timeout),
      headers: {
        'content-type': 'application/octet-stream',
        'x-prouter-caller': caller ?? 'anonymous',
        'x-prouter-message-id': message.id,
        'x-prouter-message-time': String(message.time),
        ...(message.seq > 0 ? { 'x-prouter-message-seq': String(message.seq) } : {}),
      },
    })
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError'
    throw new PRouterError(
      timedOut ? 'ERR_REQUEST_TIMEOUT' : 'ERR_SERVICE_UNREACHABLE',
      timedOut
        ? `service did not answer message ${message.id} within ${timeout} ms`
        : `service ${url} unreachable`,
      { cause: err },
    )
  }
}
