/** Plain-text tables for terminals. */
export function table(rows: ReadonlyArray<Record<string, string | number | boolean | undefined>>): string {
  const first = rows[0]
  if (first === undefined) return ''
  const keys = Object.keys(first)
  const cells = [keys, ...rows.map((r) => keys.map((k) => String(r[k] ?? '-')))]
  const widths = keys.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)))
  return cells
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`
}
