/** A real SAM session on the scriptable fake bridge: the session's own script, then one script per stream. */
import type net from 'node:net'
import type { TestContext } from 'node:test'
import { silentLogger } from '../../src/logger.js'
import { createSamSession, type SamSession } from '../../src/sam/session.js'
import type { SamSessionInit } from '../../src/sam/session-options.js'
import {
  startFakeSamBridge,
  steps,
  type BridgeScript,
  type BridgeStep,
  type FakeSamBridge,
} from './fake-sam-bridge.js'
import { readBytes } from './read-bytes.js'
import { fakeKeys } from './sam-keys.js'

/** The session's destination (fake keys). */
export const OWN_KEYS = fakeKeys(1)

/** HELLO and SESSION CREATE (session `id`) answered OK, then `extra`. */
export const sessionScript = (id = 'test', extra: BridgeStep[] = []): BridgeScript => [
  steps.hello(),
  steps.reply(
    new RegExp(`^SESSION CREATE STYLE=STREAM ID=${id} `),
    `SESSION STATUS RESULT=OK DESTINATION=${OWN_KEYS.privateKey}`,
  ),
  ...extra,
]

/** A session `test` on a fresh fake bridge; stream connection i gets `streams[i]` (or `streams(i)`). */
export async function sessionOnFakeBridge(
  t: TestContext,
  streams: BridgeScript[] | ((index: number) => BridgeScript),
  init: Partial<SamSessionInit> = {},
): Promise<{ bridge: FakeSamBridge; session: SamSession }> {
  const byIndex = typeof streams === 'function' ? streams : (i: number): BridgeScript => streams[i] ?? []
  const bridge = await startFakeSamBridge((i) => (i === 0 ? sessionScript() : byIndex(i - 1)))
  t.after(() => bridge.close())
  const session = await createSamSession(
    { sam: bridge.address, id: 'test', ...init },
    { logger: silentLogger() },
  )
  t.after(() => {
    session.destroy()
  })
  return { bridge, session }
}

/** Write `text` on `socket` and resolve with as many bytes read back. */
export async function echoes(socket: net.Socket, text: string): Promise<string> {
  const received = readBytes(socket, Buffer.byteLength(text))
  socket.write(text)
  return (await received).toString()
}
