import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { cryptoWaitReady, sr25519Verify } from '@polkadot/util-crypto'
import { isPRouterError, type ErrorCode } from '../../../src/errors.js'
import { CALLER_PROOF_WINDOW } from '../../../src/constants.js'
import {
  CALLER_PROOF_BYTES,
  CALLER_PROOF_DOMAIN,
  decodeCallerProof,
  signCallerProof,
  verifyCallerProof,
  workerKeyFromSuri,
  type WorkerKeyPair,
} from '../../../src/identity/index.js'

const A_B32 = `${'a'.repeat(51)}q.b32.i2p`
const B_B32 = `${'b'.repeat(51)}a.b32.i2p`
const M_B32 = `${'m'.repeat(51)}q.b32.i2p`
const NOW = 1_765_000_000_000
const NONCE = Uint8Array.from({ length: 16 }, (_, i) => i)

let alice: WorkerKeyPair
let mallory: WorkerKeyPair
before(async () => {
  ;[alice, mallory] = await Promise.all([workerKeyFromSuri('//Alice'), workerKeyFromSuri('//Mallory')])
})

const code =
  (c: ErrorCode) =>
  (err: unknown): boolean =>
    isPRouterError(err, c)
const expect = { source: A_B32, self: B_B32, now: NOW }
const proofFor = (o: { time?: number; caller?: string; callee?: string } = {}): string =>
  signCallerProof(
    alice,
    { caller: o.caller ?? A_B32, callee: o.callee ?? B_B32 },
    { time: o.time ?? NOW, nonce: NONCE },
  )

/** `proof` with the bytes at `offset` replaced by `bytes` (hex in, hex out). */
function tamper(proof: string, offset: number, bytes: Uint8Array | string): string {
  const raw = Buffer.from(proof, 'hex')
  raw.set(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, offset)
  return raw.toString('hex')
}

test('the layout: domain, key, both b32 labels, time big-endian, nonce, signature; 496 hex digits', () => {
  const proof = proofFor()
  assert.equal(proof.length, 2 * CALLER_PROOF_BYTES)
  const raw = Buffer.from(proof, 'hex')
  assert.equal(raw.toString('latin1', 0, 24), CALLER_PROOF_DOMAIN)
  assert.deepEqual(Uint8Array.from(raw.subarray(24, 56)), alice.publicKey)
  assert.equal(raw.toString('latin1', 56, 108), A_B32.slice(0, 52))
  assert.equal(raw.toString('latin1', 108, 160), B_B32.slice(0, 52))
  assert.equal(raw.readBigUInt64BE(160), BigInt(NOW))
  assert.deepEqual(Uint8Array.from(raw.subarray(168, 184)), NONCE)
  assert.deepEqual(decodeCallerProof(proof), {
    workerKey: alice.workerKey,
    caller: A_B32,
    callee: B_B32,
    time: NOW,
    nonce: NONCE,
    signature: Uint8Array.from(raw.subarray(184)),
  })
})

test('a standard sr25519 signature (context substrate) over bytes 0..183, as @polkadot/util-crypto checks it', async () => {
  await cryptoWaitReady()
  const raw = Buffer.from(proofFor(), 'hex')
  assert.ok(sr25519Verify(raw.subarray(0, 184), raw.subarray(184), alice.publicKey))
})

test('a proof for this stream verifies, at the edges of the window too', () => {
  assert.equal(verifyCallerProof(proofFor(), expect).workerKey, alice.workerKey)
  const w = CALLER_PROOF_WINDOW
  assert.equal(verifyCallerProof(proofFor({ time: NOW - w }), expect).time, NOW - w)
  assert.equal(verifyCallerProof(proofFor({ time: NOW + w }), expect).time, NOW + w)
  const upper = { source: A_B32.toUpperCase(), self: B_B32.replace('.b32.i2p', ''), now: NOW }
  assert.equal(verifyCallerProof(proofFor(), upper).workerKey, alice.workerKey, 'either spelling')
})

test('fresh nonces: two proofs of the same stream differ', () => {
  const one = signCallerProof(alice, { caller: A_B32, callee: B_B32 })
  const two = signCallerProof(alice, { caller: A_B32, callee: B_B32 })
  assert.notEqual(one, two)
  assert.notDeepEqual(decodeCallerProof(one).nonce, decodeCallerProof(two).nonce)
})

test('refused: made for another callee (ERR_CALLER_PROOF_CALLEE)', () => {
  assert.throws(() => verifyCallerProof(proofFor({ callee: M_B32 }), expect), code('ERR_CALLER_PROOF_CALLEE'))
  assert.throws(
    () => verifyCallerProof(tamper(proofFor(), 108, M_B32.slice(0, 52)), expect),
    code('ERR_CALLER_PROOF_CALLEE'),
  )
})

test('refused: replayed from another destination (ERR_CALLER_PROOF_SOURCE)', () => {
  assert.throws(
    () => verifyCallerProof(proofFor(), { ...expect, source: M_B32 }),
    code('ERR_CALLER_PROOF_SOURCE'),
  )
  // the caller field rewritten to the replaying destination: the signature no longer holds
  assert.throws(
    () => verifyCallerProof(tamper(proofFor(), 56, M_B32.slice(0, 52)), { ...expect, source: M_B32 }),
    code('ERR_CALLER_PROOF_SIGNATURE'),
  )
})

test('refused: signed outside the window either way (ERR_CALLER_PROOF_TIME)', () => {
  const w = CALLER_PROOF_WINDOW
  for (const time of [NOW - w - 1, NOW + w + 1, 0]) {
    assert.throws(() => verifyCallerProof(proofFor({ time }), expect), code('ERR_CALLER_PROOF_TIME'))
  }
  assert.throws(
    () => verifyCallerProof(proofFor(), { ...expect, window: 0, now: NOW + 1 }),
    code('ERR_CALLER_PROOF_TIME'),
  )
})

test('refused: any signed field changed, or another key named (ERR_CALLER_PROOF_SIGNATURE)', () => {
  const proof = proofFor()
  const later = Buffer.alloc(8)
  later.writeBigUInt64BE(BigInt(NOW + 1))
  const cases: Array<[string, string]> = [
    ['time', tamper(proof, 160, later)],
    ['nonce', tamper(proof, 168, new Uint8Array(16))],
    ['key', tamper(proof, 24, mallory.publicKey)],
    ['signature', tamper(proof, 200, Uint8Array.of(0x55))],
    ['not a curve point', tamper(proof, 24, new Uint8Array(32).fill(0xff))],
  ]
  for (const [what, bad] of cases) {
    assert.throws(() => verifyCallerProof(bad, expect), code('ERR_CALLER_PROOF_SIGNATURE'), what)
  }
  // mallory signing for alice's address: a valid signature, but by mallory — the key is what it names
  const own = signCallerProof(mallory, { caller: A_B32, callee: B_B32 }, { time: NOW })
  assert.equal(verifyCallerProof(own, expect).workerKey, mallory.workerKey)
})

test('refused: not the v1 layout (ERR_CALLER_PROOF_MALFORMED)', () => {
  const proof = proofFor()
  const cases: Array<[string, unknown]> = [
    ['missing', undefined],
    ['array (a repeated header)', [proof, proof]],
    ['empty', ''],
    ['short', proof.slice(2)],
    ['long', `${proof}00`],
    ['upper case', proof.toUpperCase()],
    ['not hex', `${proof.slice(0, -1)}g`],
    ['two headers joined', `${proof}, ${proof}`],
    ['domain v2', tamper(proof, 0, 'prouter-caller-proof-v2:')],
    ['caller not base32', tamper(proof, 56, '1')],
    ['callee not base32', tamper(proof, 159, 'b')],
    ['time past 2^53', tamper(proof, 160, new Uint8Array(8).fill(0xff))],
  ]
  for (const [what, bad] of cases) {
    assert.throws(() => verifyCallerProof(bad, expect), code('ERR_CALLER_PROOF_MALFORMED'), what)
  }
})

test('signing refuses what it cannot encode', () => {
  const bad = [
    () => signCallerProof(alice, { caller: 'alice', callee: B_B32 }),
    () => signCallerProof(alice, { caller: A_B32, callee: `${B_B32}x` }),
    () => signCallerProof(alice, { caller: A_B32, callee: B_B32 }, { time: -1 }),
    () => signCallerProof(alice, { caller: A_B32, callee: B_B32 }, { nonce: new Uint8Array(8) }),
  ]
  for (const f of bad) assert.throws(f, code('ERR_INVALID_ARGUMENT'))
})

test('figures: sign and verify cost (wall clock, and CPU time, which a loaded machine distorts less)', (t) => {
  const n = 200
  const measure = (f: () => void): { wall: number; cpu: number } => {
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < n; i++) f()
    const cpu = process.cpuUsage(cpu0)
    return { wall: (performance.now() - t0) / n, cpu: (cpu.user + cpu.system) / 1000 / n }
  }
  const proofs: string[] = []
  const sign = measure(() => proofs.push(signCallerProof(alice, { caller: A_B32, callee: B_B32 })))
  let i = 0
  const verify = measure(() => verifyCallerProof(proofs[i++], { ...expect, now: Date.now() }))
  const show = (m: { wall: number; cpu: number }) => `${m.wall.toFixed(2)} ms (CPU ${m.cpu.toFixed(2)} ms)`
  t.diagnostic(`sign ${show(sign)}, verify ${show(verify)}, mean of ${n}`)
  assert.equal(i, n)
})
