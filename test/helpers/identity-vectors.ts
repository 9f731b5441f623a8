/**
 * Test vectors for the worker identity, written out by hand from the type definitions (not produced by
 * src/identity): Substrate's well-known //Alice and //Bob keys and one WorkerEndpointPayload field by field.
 */

/** //Alice's sr25519 public key (Substrate dev phrase, hard derivation "Alice"). */
export const ALICE = 'd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d'
/** //Bob's sr25519 public key. */
export const BOB = '8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48'
export const ENDPOINT = 'i2p://z277vjg7ogdht3irggrobakjlwmgbvyrdvrgnnrflryqbutmlr4q.b32.i2p'
export const SIGNING_TIME = 1_700_000_000_000

/** WorkerEndpointPayload { pubkey: //Alice, versioned_endpoints: V1([ENDPOINT]), signing_time: 1_700_000_000_000 } */
export const ALICE_PAYLOAD_HEX = [
  ALICE, // pubkey: [u8; 32]
  '00', // VersionedWorkerEndpoints::V1
  '04', // Vec length: compact(1) = 1 << 2
  '0901', // String length: compact(66) = 66 << 2 | 0b01 = 0x0109, little-endian
  '6932703a2f2f', // "i2p://"
  '7a323737766a67376f676468743369726767726f62616b6a6c776d6762767972647672676e6e72666c7279716275746d6c723471', // the 52 base32 characters
  '2e6233322e693270', // ".b32.i2p"
  '0068e5cf8b010000', // signing_time: u64 LE, 1_700_000_000_000 = 0x0000018bcfe56800
].join('')
