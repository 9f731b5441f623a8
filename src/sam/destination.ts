import { DEFAULT_SAM_COMMAND_TIMEOUT, DEFAULT_SIGNATURE_TYPE } from '../constants.js'
import { invalidOption, PRouterError } from '../errors.js'
import { b32FromDestination, publicDestinationFromPrivate } from '../i2p/index.js'
import type { Logger } from '../logger.js'
import { destGenerateCommand } from './command.js'
import { openControlSocket } from './control-socket.js'
import { noopLogger } from './noop-logger.js'
import { redactSecrets } from './reply.js'
import { errorFromReply } from './results.js'
import type { SamAddress } from './tcp-connect.js'

/**
 * Destinations through the bridge: `DEST GENERATE` and a HELLO probe. The data formats (I2P base64,
 * Destination layout, b32) live in src/i2p, shared with src/identity; src/sam/index.ts re-exports them.
 */

export interface SamCallOptions {
  signal?: AbortSignal
  timeout?: number
  logger?: Logger
}

export interface GeneratedDestination {
  /** Public destination, base64. */
  destination: string
  /** Private key, base64: keep it secret. */
  privateKey: string
  b32: string
}

/** `DEST GENERATE SIGNATURE_TYPE=…` on a fresh connection; the reply's PUB is checked against its PRIV. */
export async function generateDestination(
  sam: SamAddress,
  options: SamCallOptions & { signatureType?: number } = {},
): Promise<GeneratedDestination> {
  const signatureType = options.signatureType ?? DEFAULT_SIGNATURE_TYPE
  if (!Number.isInteger(signatureType) || signatureType < 0 || signatureType > 0xffff) {
    throw invalidOption('signatureType', `must be an integer in 0..65535, got ${String(signatureType)}`)
  }
  const command = destGenerateCommand(signatureType)
  const control = await openControlSocket({ sam }, { logger: options.logger ?? noopLogger() }, options)
  try {
    const reply = await control.command(command, options)
    const { RESULT: result, PUB: destination, PRIV: privateKey } = reply.values
    const context = `DEST GENERATE via ${control.address}`
    if (result !== undefined && result !== 'OK') throw errorFromReply(reply, context)
    if (destination === undefined || privateKey === undefined || !matches(destination, privateKey)) {
      throw new PRouterError('ERR_SAM_PROTOCOL', `${context}: no matching PUB and PRIV in the reply`, {
        detail: { raw: redactSecrets(reply.raw) },
      })
    }
    return { destination, privateKey, b32: b32FromDestination(destination) }
  } finally {
    await control.close()
  }
}

/** Connect, HELLO, close: the negotiated SAM version. A readiness probe for a router. */
export async function samHello(sam: SamAddress, options: SamCallOptions = {}): Promise<string> {
  const timeout = options.timeout ?? DEFAULT_SAM_COMMAND_TIMEOUT
  const control = await openControlSocket(
    { sam },
    { logger: options.logger ?? noopLogger() },
    { ...options, timeout },
  )
  const version = control.version
  await control.close()
  return version
}

function matches(destination: string, privateKey: string): boolean {
  try {
    return publicDestinationFromPrivate(privateKey) === destination
  } catch {
    return false
  }
}
