/** The local registry's publish token: an empty or short one would leave publishing open, so none is served. */
import { MIN_REGISTRY_TOKEN_LENGTH } from '../../constants.js'
import { PRouterError } from '../../errors.js'

/** Throws ERR_REGISTRY_TOKEN_WEAK unless `token` has at least MIN_REGISTRY_TOKEN_LENGTH characters. */
export function checkRegistryToken(token: string): void {
  const length = token.trim().length
  if (length >= MIN_REGISTRY_TOKEN_LENGTH) return
  throw new PRouterError(
    'ERR_REGISTRY_TOKEN_WEAK',
    `the publish token has ${length} characters, fewer than ${MIN_REGISTRY_TOKEN_LENGTH}: an empty token ` +
      'file would leave publishing open to anyone (delete the file to have a token generated)',
  )
}
