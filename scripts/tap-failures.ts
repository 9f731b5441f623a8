/**
 * The failures of a TAP log (node --test), printed again at its end: what failed and why, without the tests
 * that were only cancelled because their suite failed (a failed `before` hook cancels every test of the
 * suite, and its error is then printed once, far above the end of a long run).
 *
 *   node --import tsx scripts/tap-failures.ts <tap log>
 */
import { readFile } from 'node:fs/promises'

/** Failures that only follow from another one, reported there. */
const CONSEQUENCES = new Set(['cancelledByParent', 'subtestsFailed'])
const MAX_LINES = 40

const file = process.argv[2]
if (file === undefined) throw new Error('usage: tap-failures.ts <tap log>')
const lines = (await readFile(file, 'utf8')).split('\n')
const failures = lines.map((line, at) => failureAt(line, at)).filter((f) => f.length > 0)
if (failures.length > 0) {
  console.log(`\n# failures, again (${failures.length}; tests cancelled by their suite's failure left out):`)
  for (const f of failures) console.log(f.join('\n'))
}

/** The `not ok` at line `at` with its YAML block, unless it is a consequence of another failure. */
function failureAt(line: string, at: number): string[] {
  const head = /^(\s*)not ok \d+ - (.*)$/.exec(line)
  if (head === null) return []
  const indent = head[1] ?? ''
  const block: string[] = []
  for (let i = at + 1; i < lines.length && lines[i] !== `${indent}  ...`; i++) block.push(lines[i] ?? '')
  const type = /failureType: '([^']*)'/.exec(block.join('\n'))?.[1] ?? ''
  if (CONSEQUENCES.has(type)) return []
  const shown = block.slice(0, MAX_LINES).map((l) => `#   ${l.trim()}`)
  return [`# not ok - ${head[2] ?? ''}`, ...shown]
}
