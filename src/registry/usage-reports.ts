/**
 * Usage reports signed and verified: the worker key signs `reportSigningMessage(report)` (metering/report.ts).
 * Whatever a backend or a file hands over, readers take a report only through `verifyUsageReport`.
 */
import { PRouterError } from '../errors.js'
import { parseWorkerKey, verifySignature, type WorkerKeyPair } from '../identity/index.js'
import {
  parseSignedUsageReport,
  parseUsageReport,
  reportSigningMessage,
  type SignedUsageReport,
  type UsageReport,
} from '../metering/report.js'

/** Sign `report` with its own worker's key (the report's workerKey must be the pair's). */
export function signUsageReport(report: UsageReport, pair: WorkerKeyPair): SignedUsageReport {
  const checked = parseUsageReport(report)
  if (checked.workerKey !== pair.workerKey) {
    throw new PRouterError(
      'ERR_INVALID_ARGUMENT',
      `a report of ${checked.workerKey} cannot be signed by ${pair.workerKey}`,
    )
  }
  const signature = pair.sign(reportSigningMessage(checked))
  return { report: checked, signature: `0x${Buffer.from(signature).toString('hex')}` }
}

/**
 * Parse (JSON text or value) and check the signature against the report's own worker key. Throws
 * ERR_REPORT_MALFORMED or ERR_REPORT_SIGNATURE; returns the report in canonical form.
 */
export function verifyUsageReport(input: unknown): SignedUsageReport {
  const signed = parseSignedUsageReport(input)
  const { report } = signed
  const signature = Uint8Array.from(Buffer.from(signed.signature.slice(2), 'hex'))
  if (!verifySignature(reportSigningMessage(report), signature, parseWorkerKey(report.workerKey))) {
    throw new PRouterError(
      'ERR_REPORT_SIGNATURE',
      `report of ${report.workerKey} for ${new Date(report.start).toISOString()}: signature does not verify`,
      { detail: { workerKey: report.workerKey, start: report.start } },
    )
  }
  return signed
}
