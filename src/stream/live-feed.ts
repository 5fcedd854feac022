/**
 * The live feed behind `/api/v1/stream`: every quote published on the bus gets a monotonically
 * increasing event id and is kept in a bounded ring, so a reconnecting client can resume from its
 * `Last-Event-ID` as long as the ring still holds it.
 *
 * Invariants:
 * - Memory is bounded by `capacity` events, whatever the number of subscribers.
 * - Every subscriber sees every event, in id order; a subscriber that throws is removed and
 *   reported, it never keeps the others from their events.
 * - `since(id)` never silently skips: it answers `undefined` (the client must reload) when events
 *   after `id` already left the ring, or when `id` was never handed out by this feed (an id from a
 *   previous process, whose ids are meaningless here).
 */
import type { Quote } from '../model/quote.ts'

export interface LiveEvent {
  id: number
  quote: Quote
}

export type LiveListener = (event: LiveEvent) => void

export interface LiveFeedOptions {
  /** Events kept for resumption, default 10_000. */
  capacity?: number
  /**
   * Id of the first event, default 1. A runtime can start from a clock reading (e.g. epoch
   * milliseconds × 1000) so ids keep increasing across restarts.
   */
  firstId?: number
  onListenerError?: (error: unknown) => void
}

export class LiveFeed {
  private readonly capacity: number
  private readonly ring: (LiveEvent | undefined)[]
  private readonly firstId: number
  private nextId: number
  private readonly listeners = new Set<LiveListener>()
  private readonly onListenerError: (error: unknown) => void

  constructor(options: LiveFeedOptions = {}) {
    this.capacity = options.capacity ?? 10_000
    if (!Number.isInteger(this.capacity) || this.capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${this.capacity}`)
    }
    this.firstId = options.firstId ?? 1
    if (!Number.isSafeInteger(this.firstId) || this.firstId < 1) {
      throw new RangeError(`firstId must be a positive safe integer, got ${this.firstId}`)
    }
    this.nextId = this.firstId
    this.ring = new Array(this.capacity)
    this.onListenerError = options.onListenerError ?? (() => {})
  }

  push(quotes: readonly Quote[]): void {
    for (const quote of quotes) {
      const event = { id: this.nextId++, quote }
      this.ring[event.id % this.capacity] = event
      for (const listener of this.listeners) {
        try {
          listener(event)
        } catch (error) {
          this.listeners.delete(listener)
          this.onListenerError(error)
        }
      }
    }
  }

  /** The newest event id handed out so far (`firstId - 1` before the first). */
  get lastId(): number {
    return this.nextId - 1
  }

  /**
   * Events after `lastId`, oldest first; `undefined` if some of them already left the ring or
   * `lastId` was never handed out by this feed (the client missed events and should reload).
   */
  since(lastId: number): LiveEvent[] | undefined {
    if (lastId > this.lastId || lastId < this.firstId - 1) return undefined
    const from = lastId + 1
    if (from > this.lastId) return []
    if (this.lastId - from + 1 > this.capacity) return undefined
    const out: LiveEvent[] = []
    for (let id = from; id <= this.lastId; id++) {
      const e = this.ring[id % this.capacity]
      if (e?.id === id) out.push(e)
    }
    return out
  }

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  get subscriberCount(): number {
    return this.listeners.size
  }
}
