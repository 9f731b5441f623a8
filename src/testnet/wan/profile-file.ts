/** A WAN profile by name, or a custom link table from a JSON file (validated; see docs/testnet.md). */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { z } from 'zod'
import { invalidOption } from '../../errors.js'
import { WAN_PROFILE_NAMES, type WanProfile, type WanProfileTable } from './profile.js'

const params = {
  delayMs: z.number().min(0).max(10_000),
  jitterMs: z.number().min(0).max(10_000),
  loss: z.number().min(0).max(1),
  rateMbit: z.number().min(0),
}

const tableSchema = z.strictObject({
  name: z.string().min(1).max(64).optional(),
  default: z.strictObject(params),
  links: z
    .array(
      z.strictObject({
        from: z.string().min(1),
        to: z.string().min(1),
        oneWay: z.boolean().optional(),
        ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.optional()])),
      }),
    )
    .optional(),
})

export function isProfileName(value: string): value is (typeof WAN_PROFILE_NAMES)[number] {
  return (WAN_PROFILE_NAMES as readonly string[]).includes(value)
}

/** `lan`, `continental`, `lossy`, or a path to a JSON link table. */
export async function loadWanProfile(value: string): Promise<WanProfile> {
  if (isProfileName(value)) return value
  if (!value.endsWith('.json')) {
    throw invalidOption('wan', `"${value}" is neither ${WAN_PROFILE_NAMES.join(', ')} nor a .json file`)
  }
  let json: unknown
  try {
    json = JSON.parse(await readFile(value, 'utf8'))
  } catch (cause) {
    throw invalidOption('wan', `${value}: ${(cause as Error).message}`)
  }
  return parseWanTable(json, basename(value, '.json'))
}

export function parseWanTable(json: unknown, fallbackName: string): WanProfileTable {
  const parsed = tableSchema.safeParse(json)
  if (!parsed.success) throw invalidOption('wan', z.prettifyError(parsed.error))
  const { name, ...rest } = parsed.data
  return { ...rest, name: name ?? fallbackName }
}
