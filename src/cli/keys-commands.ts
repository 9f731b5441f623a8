/** `prouter keys init|show`: the worker's sr25519 key and its I2P destination, under one folder. */
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { initKeyStore, loadKeyStore } from '../identity/index.js'
import { i2pEndpoint } from '../identity/index.js'

export const DEFAULT_KEYS_DIR = '.prouter/keys'

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description("the worker's identity key and I2P destination")
  keys
    .command('init')
    .description('create the worker key (or import one) and a fresh I2P destination')
    .option('--dir <dir>', 'key folder (mode 0700, files 0600)', DEFAULT_KEYS_DIR)
    .option(
      '--suri <suri>',
      'import a mnemonic or secret URI, e.g. "//Alice" on a testnet (env PROUTER_SURI)',
    )
    .option('--force', 'overwrite existing keys')
    .option('--json', 'machine-readable output')
    .action(async (o: { dir: string; suri?: string; force?: boolean; json?: boolean }) => {
      const suri = o.suri ?? process.env.PROUTER_SURI
      const store = await initKeyStore(resolve(o.dir), {
        ...(suri === undefined ? {} : { suri }),
        ...(o.force === true ? { force: true } : {}),
      })
      print(resolve(o.dir), store.worker.workerKey, store.i2p.b32, o.json === true)
    })
  keys
    .command('show')
    .description('print the worker key and the I2P address')
    .option('--dir <dir>', 'key folder', DEFAULT_KEYS_DIR)
    .option('--json', 'machine-readable output')
    .action(async (o: { dir: string; json?: boolean }) => {
      const store = await loadKeyStore(resolve(o.dir))
      print(resolve(o.dir), store.worker.workerKey, store.i2p.b32, o.json === true)
    })
}

function print(dir: string, workerKey: string, b32: string, json: boolean): void {
  if (json) {
    console.log(JSON.stringify({ dir, workerKey, b32, endpoint: i2pEndpoint(b32) }))
    return
  }
  console.log(`worker key  ${workerKey}`)
  console.log(`i2p address ${b32}`)
  console.log(`keys in     ${dir}`)
}
