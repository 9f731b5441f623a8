/** Where a benchmark keeps its figures: `bench/results/<name>-<ISO time>.json`, one file per run. */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const RESULTS_DIR = 'bench/results'

/** Write `result` as `<name>-<time>.json` and say where (on stderr: stdout holds the tables). */
export async function saveResults(name: string, result: object): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true })
  const file = join(RESULTS_DIR, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  await writeFile(file, JSON.stringify(result, null, 2) + '\n')
  process.stderr.write(`written to ${file}\n`)
  return file
}
