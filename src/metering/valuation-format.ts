/**
 * A valuation (valuation.ts) as CSV or JSON. CSV: a header line, then one line per worker in the rows' order,
 * the share with 6 decimals; fields are worker keys and numbers, so no quoting is needed. JSON: the window
 * (ISO and ms), the weights, the total score, the rows with the share at full precision, and the periods
 * left out for equivocation. Pure.
 */
import type { Valuation, ValuationRow } from './valuation.js'

export const VALUATION_CSV_COLUMNS: ReadonlyArray<keyof ValuationRow> = [
  'worker',
  'reports',
  'excluded',
  'coveredMs',
  'transitBytes',
  'peerBytesConfirmed',
  'peerBytesClaimed',
  'score',
  'share',
]

export function valuationCsv(valuation: Valuation): string {
  const lines = valuation.rows.map((row) =>
    VALUATION_CSV_COLUMNS.map((c) => (c === 'share' ? row.share.toFixed(6) : String(row[c]))).join(','),
  )
  return [VALUATION_CSV_COLUMNS.join(','), ...lines].join('\n') + '\n'
}

export function valuationJson(valuation: Valuation): string {
  const { from, to, transitWeight, peerWeight, totalScore, rows, equivocations } = valuation
  const view = {
    period: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), fromMs: from, toMs: to },
    weights: { transit: transitWeight, peer: peerWeight },
    totalScore,
    workers: rows,
    equivocations: equivocations.map((e) => ({ ...e, period: new Date(e.start).toISOString() })),
  }
  return JSON.stringify(view, null, 2) + '\n'
}
