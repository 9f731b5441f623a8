/**
 * The key folder (mode 0700 when PRouter creates it) holds two JSON files, each mode 0600:
 *
 *   worker.key  { version: 1, type: 'sr25519', suri: '<mnemonic or secret URI>', publicKey: '0x…' }
 *   i2p.key     { version: 1, privateKey: '<I2P base64>', destination: '<I2P base64>', b32: '<52>.b32.i2p' }
 *
 * `suri` re-creates the worker key pair (a fresh key is a new 12-word mnemonic, which is also its backup);
 * `privateKey` is what SAM's `SESSION CREATE DESTINATION=` takes, so the b32 address survives restarts.
 * Loading re-derives both public parts and refuses a file that disagrees with itself.
 */
import { lstat, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { invalidOption, isPRouterError, PRouterError } from '../errors.js'
import { b32FromDestination, generateDestinationKeys, publicDestinationFromPrivate } from '../i2p/index.js'
import type { DestinationKeys } from '../i2p/index.js'
import { fileExists, KEY_DIR_MODE, malformedKeyFile, readKeyFile, writeKeyFile } from './key-file.js'
import { newMnemonic, workerKeyFromSuri, type WorkerKeyPair } from './worker-key.js'

export const WORKER_KEY_FILE = 'worker.key'
export const I2P_KEY_FILE = 'i2p.key'
export const KEY_FILE_VERSION = 1

export interface KeyStore {
  worker: WorkerKeyPair
  /** `privateKey` is not enumerable: it stays out of JSON.stringify and logs. */
  i2p: Readonly<DestinationKeys>
}

export interface InitKeyStoreOptions {
  /** Import this mnemonic or secret URI (e.g. `//Alice` on a testnet) instead of making a new key. */
  suri?: string
  /** Replace existing key files (the old keys are lost). */
  force?: boolean
}

interface Paths {
  worker: string
  i2p: string
}

/** Create (or import) the worker key and a fresh I2P destination; refuses to replace keys unless `force`. */
export async function initKeyStore(dir: string, options: InitKeyStoreOptions = {}): Promise<KeyStore> {
  const { suri, force } = checkInit(dir, options)
  const secret = suri ?? newMnemonic()
  const worker = await workerKeyFromSuri(secret)
  const i2p = await generateDestinationKeys()
  const paths = keyPaths(dir)
  await mkdir(dir, { recursive: true, mode: KEY_DIR_MODE })
  if (!force) await refuseExisting(paths)
  const workerFile = { version: KEY_FILE_VERSION, type: 'sr25519', suri: secret, publicKey: worker.workerKey }
  await writeKeyFile(paths.worker, json(workerFile), { overwrite: force })
  await writeKeyFile(paths.i2p, json({ version: KEY_FILE_VERSION, ...i2p }), { overwrite: force })
  return { worker, i2p: destinationKeys(i2p) }
}

export async function loadKeyStore(dir: string): Promise<KeyStore> {
  if (typeof dir !== 'string' || dir === '') throw invalidOption('dir', 'must be a folder path')
  const paths = keyPaths(dir)
  const worker = await loadWorkerKey(paths.worker)
  const i2p = await loadI2pKey(paths.i2p)
  return { worker, i2p: destinationKeys(i2p) }
}

export function keyPaths(dir: string): Paths {
  return { worker: join(dir, WORKER_KEY_FILE), i2p: join(dir, I2P_KEY_FILE) }
}

function checkInit(dir: string, options: InitKeyStoreOptions): { suri: string | undefined; force: boolean } {
  if (typeof dir !== 'string' || dir === '') throw invalidOption('dir', 'must be a folder path')
  if (options.suri !== undefined && typeof options.suri !== 'string') {
    throw invalidOption('suri', 'must be a string')
  }
  if (options.force !== undefined && typeof options.force !== 'boolean') {
    throw invalidOption('force', 'must be a boolean')
  }
  return { suri: options.suri, force: options.force ?? false }
}

async function refuseExisting(paths: Paths): Promise<void> {
  for (const path of [paths.worker, paths.i2p]) {
    try {
      await lstat(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
      throw err
    }
    throw fileExists(path)
  }
}

async function loadWorkerKey(path: string): Promise<WorkerKeyPair> {
  const file = parseJson(path, await readKeyFile(path))
  if (file.version !== KEY_FILE_VERSION) throw malformedKeyFile(path, `version must be ${KEY_FILE_VERSION}`)
  if (file.type !== 'sr25519') throw malformedKeyFile(path, "type must be 'sr25519'")
  const suri = stringField(path, file, 'suri')
  const publicKey = stringField(path, file, 'publicKey')
  let worker: WorkerKeyPair
  try {
    worker = await workerKeyFromSuri(suri)
  } catch (err) {
    if (isPRouterError(err, 'ERR_KEY_INVALID_SURI')) {
      throw malformedKeyFile(path, 'suri is not a valid secret URI')
    }
    throw err
  }
  if (worker.workerKey !== publicKey.toLowerCase()) {
    throw mismatch(
      path,
      `its suri gives ${worker.workerKey}, not the publicKey stored (${publicKey.slice(0, 80)})`,
    )
  }
  return worker
}

async function loadI2pKey(path: string): Promise<DestinationKeys> {
  const file = parseJson(path, await readKeyFile(path))
  if (file.version !== KEY_FILE_VERSION) throw malformedKeyFile(path, `version must be ${KEY_FILE_VERSION}`)
  const privateKey = stringField(path, file, 'privateKey')
  const destination = stringField(path, file, 'destination')
  const b32 = stringField(path, file, 'b32')
  if (publicPart(path, privateKey) !== destination) {
    throw mismatch(path, 'the destination stored is not the one in its privateKey')
  }
  if (b32FromDestination(destination) !== b32) {
    throw mismatch(path, 'the b32 stored is not its destination hash')
  }
  return { privateKey, destination, b32 }
}

function publicPart(path: string, privateKey: string): string {
  try {
    return publicDestinationFromPrivate(privateKey)
  } catch {
    throw malformedKeyFile(path, 'privateKey is not an I2P private key (base64 destination and private keys)')
  }
}

function parseJson(path: string, text: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw malformedKeyFile(path, 'not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformedKeyFile(path, 'not a JSON object')
  }
  return value as Record<string, unknown>
}

function stringField(path: string, file: Record<string, unknown>, name: string): string {
  const value = file[name]
  if (typeof value !== 'string' || value === '') {
    throw malformedKeyFile(path, `${name} must be a non-empty string`)
  }
  return value
}

function destinationKeys(keys: DestinationKeys): Readonly<DestinationKeys> {
  const out = { destination: keys.destination, b32: keys.b32 } as DestinationKeys
  Object.defineProperty(out, 'privateKey', { value: keys.privateKey, enumerable: false })
  return Object.freeze(out)
}

function mismatch(path: string, why: string): PRouterError {
  return new PRouterError('ERR_KEY_MISMATCH', `${path}: ${why}`, { detail: { path } })
}

function json(value: object): string {
  return `${JSON.stringify(value, null, 2)}\n`
}
