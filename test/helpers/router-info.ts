/**
 * RouterInfos for tests: the real ones i2pd 2.56 wrote (test/fixtures/router-info/, made by
 * scripts/router-info-fixtures.ts) and synthetic ones signed here with a test Ed25519 key, for what real
 * routers do not produce on demand (a chosen `published`, netId or caps; a newer version of one router;
 * another signing type; a bad Mapping under a good signature). The layout is the one src/i2p/router-info.ts
 * documents; the builder is written from the spec, separately from the parser.
 */
import { readFileSync } from 'node:fs'
import { generateKeyPairSync, sign } from 'node:crypto'
import type { KeyObject } from 'node:crypto'

export type FixtureRole = 'floodfill' | 'reachable' | 'unreachable'

const FIXTURES = new URL('../fixtures/router-info/', import.meta.url)

export function fixture(role: FixtureRole): Buffer {
  return readFileSync(new URL(`${role}.router.info`, FIXTURES))
}

/** The netDb file name another i2pd stored each fixture under: `routerInfo-<id>.dat`. */
export function netDbNames(): Record<FixtureRole, { seenBy: string; file: string }> {
  return JSON.parse(readFileSync(new URL('netdb-names.json', FIXTURES), 'utf8')) as Record<
    FixtureRole,
    { seenBy: string; file: string }
  >
}

export interface TestRouterKey {
  privateKey: KeyObject
  publicKey: Buffer
}

export function testRouterKey(): TestRouterKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const x = publicKey.export({ format: 'jwk' }).x ?? ''
  return { privateKey, publicKey: Buffer.from(x, 'base64url') }
}

export interface BuildOptions {
  key: TestRouterKey
  published: number
  /** Router options; default caps 'f' and netId 77. */
  options?: Record<string, string>
  /** Default: one NTCP2 address with a host. */
  addresses?: Array<{ transport: string; cost: number; options: Record<string, string> }>
  /** The options Mapping as raw bytes (size included), instead of `options`. */
  rawOptions?: Buffer
  /** Key certificate signing type; default 7 (Ed25519). */
  signingType?: number
}

export function buildRouterInfo(o: BuildOptions): Buffer {
  const published = Buffer.alloc(8)
  published.writeBigUInt64BE(BigInt(o.published))
  const addresses = o.addresses ?? [
    { transport: 'NTCP2', cost: 3, options: { host: '127.0.0.1', port: '12345', v: '2' } },
  ]
  const signed = Buffer.concat([
    identity(o.key.publicKey, o.signingType ?? 7),
    published,
    Buffer.from([addresses.length]),
    ...addresses.map(address),
    Buffer.from([0]), // peers
    o.rawOptions ?? mapping(o.options ?? { caps: 'f', netId: '77' }),
  ])
  return Buffer.concat([signed, sign(null, signed, o.key.privateKey)])
}

/** crypto key 256 | 96 padding + Ed25519 key 32 | KEY certificate: 5, length 4, signing type, crypto type 4. */
export function identity(publicKey: Buffer, signingType = 7): Buffer {
  const certificate = Buffer.from([5, 0, 4, 0, 0, 0, 4])
  certificate.writeUInt16BE(signingType, 3)
  return Buffer.concat([Buffer.alloc(256, 0x11), Buffer.alloc(96, 0x22), publicKey, certificate])
}

function address(a: { transport: string; cost: number; options: Record<string, string> }): Buffer {
  return Buffer.concat([Buffer.from([a.cost]), Buffer.alloc(8), i2pString(a.transport), mapping(a.options)])
}

/** A Mapping with keys sorted, as routers write it. */
export function mapping(entries: Record<string, string>): Buffer {
  const body = Buffer.concat(
    Object.keys(entries)
      .sort()
      .map((k) =>
        Buffer.concat([i2pString(k), Buffer.from('='), i2pString(entries[k] ?? ''), Buffer.from(';')]),
      ),
  )
  const size = Buffer.alloc(2)
  size.writeUInt16BE(body.length)
  return Buffer.concat([size, body])
}

export function i2pString(text: string | Buffer): Buffer {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text
  return Buffer.concat([Buffer.from([bytes.length]), bytes])
}
