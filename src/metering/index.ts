/** Metering: per-peer and router counters, the signed usage report format, cross-check and valuation. */
export {
  ANONYMOUS_PEER,
  OTHER_PEERS,
  parseSignedUsageReport,
  parseUsageReport,
  reportSigningMessage,
  USAGE_REPORT_VERSION,
  type GapCause,
  type PeerUsage,
  type SignedUsageReport,
  type TransitUsage,
  type UsageGap,
  type UsageReport,
} from './report.js'
export {
  crossCheck,
  DEFAULT_CROSS_CHECK_TOLERANCE,
  type CrossCheck,
  type CrossCheckFinding,
  type CrossCheckTolerance,
} from './cross-check.js'
export { valueReports, type Valuation, type ValuationOptions, type ValuationRow } from './valuation.js'
export { valuationCsv, valuationJson } from './valuation-format.js'
export { createPeerMeter, type PeerCounters, type PeerMeter } from './peer-meter.js'
export { createRouterMeter, type RouterMeter, type RouterReading, type RouterTotals } from './router-meter.js'
