/**
 * I2P data formats shared by `sam`, `identity` and `registry`: encodings, destinations, local key
 * generation, RouterInfos.
 */

export { base32, decodeI2pBase64, encodeI2pBase64 } from './encoding.js'
export {
  b32FromDestination,
  b32FromDestinationBytes,
  CERTIFICATE_HEADER_BYTES,
  DESTINATION_KEYS_BYTES,
  destinationLength,
  publicDestinationFromPrivate,
} from './destination.js'
export {
  CRYPTO_TYPE_ELGAMAL,
  destinationBytes,
  generateDestinationKeys,
  SIGNING_TYPE_ED25519,
  type DestinationKeys,
} from './generate.js'
export { DATAGRAM_DESTINATION_LABEL, deriveDestinationKeys } from './derive.js'
export {
  DEFAULT_NET_ID,
  MAX_ROUTER_INFO_BYTES,
  readRouterInfo,
  type RouterAddress,
  type RouterInfo,
} from './router-info.js'
