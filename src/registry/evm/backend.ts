/**
 * The registry backend on an EVM chain (kind 'evm'): the WorkerRegistry contract's event log.
 * publish = a `submit` transaction paid by the relayer account (ref: the tx hash); candidates/all = the
 * `BindingSubmitted` events from the deployment block on, unverified, as the interface says: the contract
 * cannot check sr25519, so the resolver (../resolver.ts) verifies each and keeps the newest that verifies.
 * Every RPC call has a deadline; a dead node is ERR_EVM_RPC / ERR_EVM_TIMEOUT naming its URL. The contract
 * keeps no RouterInfos: the backend has no `routerInfos` capability. Usage reports (`reports`, reports.ts):
 * `submitReport` transactions and `ReportSubmitted` events, unverified like bindings.
 */
import { isAddress } from 'viem'
import { invalidOption } from '../../errors.js'
import {
  CHAIN_SIGNING_LAG,
  DEFAULT_EVM_LOG_BLOCK_RANGE,
  DEFAULT_EVM_POLL_INTERVAL,
  DEFAULT_EVM_RPC_TIMEOUT,
  DEFAULT_EVM_TX_TIMEOUT,
} from '../../constants.js'
import type { Logger } from '../../logger.js'
import { checkTimeout, linkSignals } from '../../signals.js'
import type { SignedBinding } from '../../identity/index.js'
import { parseWorkerKey, workerKeyHex } from '../../identity/index.js'
import type {
  BackendCallOptions,
  BindingEvent,
  PublishReceipt,
  RegistryBackend,
  ReportQuery,
  ReportReceipt,
  ReportStorage,
} from '../backend.js'
import type { SignedUsageReport } from '../../metering/report.js'
import { scanReports, submitReport } from './reports.js'
import { checkChainId, isChainId } from './chain-check.js'
import { checkRegistryContract } from './contract-check.js'
import { openKeyIndex } from './key-index.js'
import type { KeyIndex } from './key-index.js'
import { createAdaptiveScan, headRef } from './log-scan.js'
import type { AdaptiveScan, BlockRef } from './log-scan.js'
import { createRelayer, requireRelayer } from './relayer.js'
import type { Relayer } from './relayer.js'
import { createEvmRpc, raceSignal } from './rpc.js'
import type { EvmRpc } from './rpc.js'
import { submitArgs, submitRaw } from './submit.js'
import type { SubmitTarget } from './submit.js'
import { pollBindings } from './watch.js'

export interface EvmBackendInit {
  /** JSON-RPC endpoint of a node of the chain (http or https). */
  rpcUrl: string
  /** Address of the deployed WorkerRegistry. */
  contract: string
  /** The deployment block: events are read from here on. */
  fromBlock: bigint
  /** The chain id the node must serve (eth_chainId), checked before first use: ERR_EVM_CHAIN_ID. */
  chainId?: number
  /** 0x secp256k1 private key of the account that pays gas; needed to publish only. Never logged. */
  relayerKey?: string
  /** How often `watch` polls for new blocks (ms). */
  pollInterval?: number
  /** Deadline of one RPC call (ms). */
  rpcTimeout?: number
  /** How long `publish` waits for the receipt (ms). */
  txTimeout?: number
  /** Blocks per eth_getLogs request (at most: halved while the node refuses a window). */
  maxBlockRange?: number
  /** File of the index of bindings already read (key-index.ts); in memory only when absent. */
  indexPath?: string
}

export function createEvmBackend(init: EvmBackendInit, components: { logger: Logger }): RegistryBackend {
  return new EvmBackend(init, components.logger)
}

class EvmBackend implements RegistryBackend {
  readonly kind = 'evm'
  /** Phala's pallet wants signing_time strictly before the block time: bindings are signed 30 s back. */
  readonly signingLagMs = CHAIN_SIGNING_LAG
  readonly reports: ReportStorage = {
    publish: (report, options = {}) => this.publishReport(report, options.signal),
    list: (query, options = {}) => this.listReports(query, options.signal),
  }
  private readonly rpc: EvmRpc
  private readonly relayer: Relayer | undefined
  private readonly scan: AdaptiveScan
  private readonly index: KeyIndex
  private readonly fromBlock: bigint
  private readonly txTimeout: number
  private readonly log: Logger
  private readonly closing = new AbortController()
  private contractChecked: Promise<void> | undefined
  private readonly chainId: number | undefined

  constructor(init: EvmBackendInit, logger: Logger) {
    const address = checkAddress(init.contract)
    this.fromBlock = checkFromBlock(init.fromBlock)
    this.chainId = checkChainIdOption(init.chainId)
    this.txTimeout = checkTimeout(init.txTimeout, 'txTimeout', DEFAULT_EVM_TX_TIMEOUT)
    this.rpc = createEvmRpc({
      rpcUrl: init.rpcUrl,
      timeout: checkTimeout(init.rpcTimeout, 'rpcTimeout', DEFAULT_EVM_RPC_TIMEOUT),
      pollInterval: checkTimeout(init.pollInterval, 'pollInterval', DEFAULT_EVM_POLL_INTERVAL),
    })
    this.relayer = createRelayer(init.relayerKey, this.rpc)
    this.scan = createAdaptiveScan(this.rpc, address, checkBlockRange(init.maxBlockRange))
    this.log = logger.child({ component: 'registry-evm', rpc: this.rpc.url, contract: address })
    this.index = openKeyIndex({ scan: this.scan, fromBlock: this.fromBlock, path: init.indexPath }, this.log)
  }

  async publish(binding: SignedBinding, options: BackendCallOptions = {}): Promise<PublishReceipt> {
    options.signal?.throwIfAborted()
    const target = this.submitTarget()
    await this.ensureContract(options.signal)
    const receipt = await submitRaw(target, submitArgs(binding), options.signal)
    this.log.debug(
      { txHash: receipt.txHash, block: String(receipt.blockNumber), gasUsed: String(receipt.gasUsed) },
      'binding submitted',
    )
    return { ref: receipt.txHash }
  }

  async candidates(workerKey: string, options: BackendCallOptions = {}): Promise<SignedBinding[]> {
    options.signal?.throwIfAborted()
    const key = workerKeyHex(parseWorkerKey(workerKey)) as `0x${string}`
    return this.index.candidates(key, await this.head(options.signal), options.signal)
  }

  async all(options: BackendCallOptions = {}): Promise<SignedBinding[]> {
    options.signal?.throwIfAborted()
    return this.index.all(await this.head(options.signal), options.signal)
  }

  private async publishReport(report: SignedUsageReport, signal?: AbortSignal): Promise<ReportReceipt> {
    signal?.throwIfAborted()
    const target = this.submitTarget()
    await this.ensureContract(signal)
    const receipt = await submitReport(target, report, signal)
    const { workerKey, start } = report.report
    this.log.debug(
      { txHash: receipt.txHash, workerKey, start, gasUsed: String(receipt.gasUsed) },
      'report submitted',
    )
    return { workerKey, start }
  }

  private async listReports(query: ReportQuery, signal?: AbortSignal): Promise<SignedUsageReport[]> {
    signal?.throwIfAborted()
    const checked =
      query.workerKey === undefined
        ? query
        : { ...query, workerKey: workerKeyHex(parseWorkerKey(query.workerKey)) }
    await this.ensureContract(signal)
    return scanReports(this.scan, this.fromBlock, checked, signal)
  }

  async watch(onEvent: (event: BindingEvent) => void, options: { signal: AbortSignal }): Promise<void> {
    const linked = linkSignals(options.signal, this.closing.signal)
    try {
      await this.ensureContract(linked.signal)
      const target = { scan: this.scan, pollInterval: this.rpc.pollInterval, log: this.log }
      await pollBindings(target, onEvent, linked.signal)
    } catch (err) {
      if (!linked.signal.aborted) throw err
    } finally {
      linked.dispose()
    }
  }

  close(): Promise<void> {
    this.closing.abort()
    return this.index.close()
  }

  /** The head block, once the contract is known to be the registry. */
  private async head(signal?: AbortSignal): Promise<BlockRef> {
    await this.ensureContract(signal)
    return headRef(this.rpc, signal)
  }

  private async checkChainAndContract(): Promise<void> {
    if (this.chainId !== undefined) await checkChainId(this.rpc, this.chainId)
    await checkRegistryContract(this.rpc, this.scan.address)
  }

  private submitTarget(): SubmitTarget {
    const relayer = requireRelayer(this.relayer, this.rpc.url)
    return { rpc: this.rpc, relayer, address: this.scan.address, txTimeout: this.txTimeout }
  }

  /**
   * The chain id (when pinned) and code checks run once per backend; a failure is not remembered, so a later
   * call retries.
   */
  private ensureContract(signal: AbortSignal | undefined): Promise<void> {
    this.contractChecked ??= this.checkChainAndContract().catch((err: unknown) => {
      this.contractChecked = undefined
      throw err
    })
    return raceSignal(this.contractChecked, signal)
  }
}

function checkAddress(contract: string): `0x${string}` {
  if (!isAddress(contract, { strict: false })) {
    throw invalidOption('contract', `must be a 0x-prefixed 20-byte address, got "${contract.slice(0, 50)}"`)
  }
  return contract
}

function checkChainIdOption(chainId: number | undefined): number | undefined {
  if (chainId === undefined || isChainId(chainId)) return chainId
  throw invalidOption('chainId', `must be a positive whole number (eth_chainId), got ${String(chainId)}`)
}

function checkFromBlock(fromBlock: bigint): bigint {
  if (typeof fromBlock !== 'bigint' || fromBlock < 0n) {
    throw invalidOption('fromBlock', 'must be a non-negative bigint block number (the deployment block)')
  }
  return fromBlock
}

function checkBlockRange(range: number | undefined): bigint {
  const value = range ?? DEFAULT_EVM_LOG_BLOCK_RANGE
  if (!Number.isSafeInteger(value) || value < 1) {
    throw invalidOption('maxBlockRange', `must be a positive whole number of blocks, got ${String(value)}`)
  }
  return BigInt(value)
}
