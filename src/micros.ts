/**
 * Times as integer microseconds since the Unix epoch, UTC: the one time representation of quotes,
 * Delta timestamps and API parameters. Microsecond epochs stay below 2^53 until the year 2255, so
 * a JS number holds them exactly.
 *
 * A neutral module (like `errors.ts`): it imports nothing, and every layer may import it.
 */

/** Microseconds since the epoch from milliseconds (a `Date.now()` or `Date.parse` value). */
export const microsFromMillis = (ms: number): number => Math.round(ms * 1000)

/** ISO-8601 UTC with microseconds when there are any (`2023-11-14T22:13:20.123456Z`). */
export const isoFromMicros = (us: number): string => {
  const ms = Math.floor(us / 1000)
  const rest = us - ms * 1000
  const iso = new Date(ms).toISOString()
  return rest === 0 ? iso : `${iso.slice(0, -1)}${String(rest).padStart(3, '0')}Z`
}
