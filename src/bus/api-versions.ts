/**
 * Which version of a Kafka API to speak with a broker: the highest one both its ApiVersions
 * answer and this client's request writer and response parser know. One rule for every request
 * the bus writes itself (Produce, Fetch).
 */

/** One API of a broker's ApiVersions answer (the client's `listApis`). */
export interface BrokerApi {
  apiKey: number
  minVersion: number
  maxVersion: number
}

/** What this client writes of an API: its key, its name (for the error), its versions `min`–`max`. */
export interface ClientApi {
  apiKey: number
  name: string
  min: number
  max: number
}

/** The highest version of `api` both sides speak; throws, saying both ranges, when there is none. */
export function agreedVersion(brokerApis: readonly BrokerApi[], api: ClientApi): number {
  const broker = brokerApis.find((a) => a.apiKey === api.apiKey)
  const version = Math.min(broker?.maxVersion ?? -1, api.max)
  if (broker === undefined || version < Math.max(broker.minVersion, api.min)) {
    throw new Error(
      `the broker's ${api.name} versions (${broker ? `${broker.minVersion}–${broker.maxVersion}` : 'none'}) ` +
        `do not meet this client's ${api.min}–${api.max}`,
    )
  }
  return version
}
