/**
 * The live feed behind `/api/v1/stream`: every quote published on the bus gets a monotonically
 * increasing event id and is kept in a bounded ring, so a reconnecting client can resume from its
 * `Last-Event-ID` as long as the ring still holds it. Memory is bounded by `capacity`.
 */
import type { Quote } from '../model/quote.ts'

export interface LiveEvent {
  id: number
  quote: Quote
}

export type LiveListener = (event: LiveEvent) => void

export class LiveFeed {
  private readonly capacity: number
  private readonly ring: (LiveEvent | undefined)[]
  private nextId = 1
  private readonly listeners = new Set<LiveListener>()

  constructor(options: { capacity?: number } = {}) {
    this.capacity = options.capacity ?? 10_000
    this.ring = new Array(this.capacity)
  }

  push(quotes: readonly Quote[]): void {
    for (const quote of quotes) {
      const event = { id: this.nextId++, quote }
      this.ring[event.id % this.capacity] = event
      for (const listener of this.listeners) listener(event)
    }
  }

  /** The newest event id handed out so far (0 before the first). */
  get lastId(): number {
    return this.nextId - 1
  }

  /**
   * Events after `lastId`, oldest first; `undefined` if some of them already left the ring (the
   * client missed events and should reload).
   */
  since(lastId: number): LiveEvent[] | undefined {
    const from = Math.max(lastId + 1, 1)
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
