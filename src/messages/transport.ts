/** What the messaging layer needs from below (a SAM datagram session) and from the registry. */

export interface DatagramTransport {
  /** Hand one datagram to the router; no delivery report. */
  send(destination: string, bytes: Uint8Array): Promise<void>
  /** A b32 -> its full destination (and the LeaseSet a send needs). */
  lookup(name: string, options?: { signal?: AbortSignal; timeout?: number }): Promise<string>
}

export interface MessagePeers {
  /**
   * The b32 of the datagram destination `workerKey`'s verified binding publishes (its `i2p-datagram://`
   * endpoint). Rejects with the registry's code, or ERR_MESSAGE_NO_ENDPOINT when it publishes none.
   */
  datagramB32(workerKey: string, options?: { signal?: AbortSignal }): Promise<string>
}
