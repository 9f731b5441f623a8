/**
 * Destination keys made locally (src/i2p/generate.ts, node:crypto alone) are taken by a real i2pd as they
 * are: one lone router (0-hop tunnels), SAM SESSION CREATE with DESTINATION=<our private key>. Run isolated:
 * sh scripts/isolated.sh node --import tsx --test test/integration/i2p-keys.test.ts
 */
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { generateDestinationKeys } from '../../src/i2p/index.js'
import type { RouterRecord } from '../../src/testnet/index.js'
import { b32FromDestination, createSamSession } from '../../src/sam/index.js'
import type { SamSession } from '../../src/sam/index.js'
import { readExactly } from '../../src/testnet/measure.js'
import { loneRouter, testLogger } from '../helpers/i2pd.js'

const logger = testLogger()
const tunnels = { inbound: { length: 0, quantity: 1 }, outbound: { length: 0, quantity: 1 } }

const oneRouter = (t: TestContext) => loneRouter(t)

async function open(t: TestContext, rec: RouterRecord, destination?: string): Promise<SamSession> {
  const session = await createSamSession(
    { sam: rec.sam, tunnels, ...(destination === undefined ? {} : { destination }) },
    { logger },
    { signal: AbortSignal.timeout(120_000) },
  )
  t.after(() => {
    session.destroy()
  })
  return session
}

test('i2pd takes a locally generated private key as it is', { timeout: 300_000 }, async (t) => {
  const { router, rec } = await oneRouter(t)
  await router.start()
  const keys = await generateDestinationKeys()
  const session = await open(t, rec, keys.privateKey)
  assert.equal(session.destination, keys.destination)
  assert.equal(session.b32, keys.b32)
  assert.equal(b32FromDestination(session.destination), keys.b32)
  assert.equal(session.privateKey, keys.privateKey, 'i2pd re-serializes the very same bytes')

  // SESSION CREATE alone does not prove the signing key: i2pd takes any private key whose layout parses (a
  // wrong Ed25519 seed too). A stream does: the peer verifies the SYN's signature against our destination.
  await t.test('its signing key works: a peer accepts its stream and sees the same b32', async (st) => {
    const peer = await open(st, rec)
    const accepted = peer.accept({ signal: AbortSignal.timeout(120_000) })
    const out = await session.connect(peer.destination, { signal: AbortSignal.timeout(120_000) })
    st.after(() => out.destroy())
    const { stream, peerDestination, peerB32 } = await accepted
    st.after(() => stream.destroy())
    assert.equal(peerDestination, keys.destination, 'the caller is who the key file says')
    assert.equal(peerB32, keys.b32)
    const hello = randomBytes(1000)
    out.write(hello)
    assert.deepEqual(await readExactly(stream, hello.length), hello)
  })
})
