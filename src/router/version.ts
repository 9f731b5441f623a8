/** Parsing and comparing i2pd version strings ("i2pd version 2.56.0 (0.9.65)"). */

export function parseI2pdVersion(output: string): string | undefined {
  return /i2pd version (\d+\.\d+\.\d+)/.exec(output)?.[1]
}

/** Negative if a < b, zero if equal, positive if a > b; dotted numeric versions only. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}
