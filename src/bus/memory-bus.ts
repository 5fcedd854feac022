/**
 * In-process `QuoteBus`: one partition per topic, offsets numbered in this process. Delivery is
 * synchronous, so when `publishQuotes` resolves the consumer (the processor's buffer) and every
 * live subscriber hold the quotes. A paused consumer makes publishers wait (back-pressure).
 * A throwing subscriber is isolated: it is reported through `onSubscriberError` and never stops
 * delivery to the others. Nothing survives the process: there is no replay.
 */
import type { DeadLetter } from '../model/dead-letter.ts'
import type { Quote } from '../model/quote.ts'
import {
  partitionKey,
  type BusConsumer,
  type BusHealth,
  type BusPartition,
  type ConsumerHandlers,
  type PartitionLag,
  type QuoteBus,
} from './bus.ts'

export const MEMORY_QUOTES_TOPIC = 'memory-quotes'
export const MEMORY_DEAD_LETTERS_TOPIC = 'memory-dead-letters'
/** Size charged per item against the consumer's byte bound (a JSON quote is ~200 bytes). */
const ITEM_BYTES = 256

interface Topic {
  name: string
  next: number
}

export class MemoryBus implements QuoteBus {
  readonly kind = 'memory'
  private readonly live = new Set<(quotes: readonly Quote[]) => void>()
  private readonly onSubscriberError: (error: unknown) => void
  private readonly quotesTopic: Topic = { name: MEMORY_QUOTES_TOPIC, next: 0 }
  private readonly deadTopic: Topic = { name: MEMORY_DEAD_LETTERS_TOPIC, next: 0 }
  private consumer: { handlers: ConsumerHandlers; paused: Set<string> } | undefined
  private resumed: { promise: Promise<void>; resolve: () => void } | undefined

  constructor(options: { onSubscriberError?: (error: unknown) => void } = {}) {
    this.onSubscriberError = options.onSubscriberError ?? (() => undefined)
  }

  async publishQuotes(quotes: readonly Quote[]): Promise<void> {
    if (quotes.length === 0) return
    await this.whileConsumerPaused(this.quotesTopic)
    const offsets = this.take(this.quotesTopic, quotes.length)
    const c = this.consumer
    if (c) {
      this.deliver(() =>
        c.handlers.onQuotes({
          topic: this.quotesTopic.name,
          partition: 0,
          items: quotes,
          offsets,
          lastOffset: offsets.at(-1)!,
          bytes: quotes.length * ITEM_BYTES,
        }),
      )
    }
    for (const s of this.live) this.deliver(() => s(quotes))
  }

  async publishDeadLetters(deadLetters: readonly DeadLetter[]): Promise<void> {
    if (deadLetters.length === 0) return
    await this.whileConsumerPaused(this.deadTopic)
    const offsets = this.take(this.deadTopic, deadLetters.length)
    const c = this.consumer
    if (c) {
      this.deliver(() =>
        c.handlers.onDeadLetters({
          topic: this.deadTopic.name,
          partition: 0,
          items: deadLetters,
          offsets,
          lastOffset: offsets.at(-1)!,
          bytes: deadLetters.length * ITEM_BYTES,
        }),
      )
    }
  }

  /**
   * One consumer (one group) at a time: a process has one processor. Its start offsets only move
   * numbering forward (there is nothing retained to re-read).
   */
  async consume(_group: string, handlers: ConsumerHandlers): Promise<BusConsumer> {
    if (this.consumer) throw new Error('MemoryBus: a consumer is already attached')
    const partitions: BusPartition[] = [
      { topic: this.quotesTopic.name, partition: 0 },
      { topic: this.deadTopic.name, partition: 0 },
    ]
    const starts = await handlers.onAssigned(partitions)
    for (const t of [this.quotesTopic, this.deadTopic]) {
      const start = starts.get(partitionKey({ topic: t.name, partition: 0 }))
      if (start !== undefined && start > t.next) t.next = start
    }
    const state = { handlers, paused: new Set<string>() }
    this.consumer = state
    return {
      pause: (ps) => {
        for (const p of ps) state.paused.add(partitionKey(p))
      },
      resume: (ps) => {
        for (const p of ps) state.paused.delete(partitionKey(p))
        this.wakePublishers()
      },
      committed: () => undefined,
      assignment: () => partitions.map((p) => ({ ...p })),
      lag: async (): Promise<PartitionLag[]> =>
        [this.quotesTopic, this.deadTopic].map((t) => ({
          topic: t.name,
          partition: 0,
          position: t.next,
          end: t.next,
          lag: 0,
          paused: state.paused.has(partitionKey({ topic: t.name, partition: 0 })),
        })),
      close: async () => {
        if (this.consumer === state) this.consumer = undefined
        this.wakePublishers()
        await handlers.onRevoked(partitions)
      },
    }
  }

  async subscribeLive(onQuotes: (quotes: readonly Quote[]) => void): Promise<() => Promise<void>> {
    // A wrapper per subscription, so one function may subscribe twice independently.
    const entry = (q: readonly Quote[]): void => onQuotes(q)
    this.live.add(entry)
    return async () => void this.live.delete(entry)
  }

  health(): BusHealth {
    return { status: 'ok' }
  }

  async close(): Promise<void> {
    this.consumer = undefined
    this.wakePublishers()
  }

  private take(topic: Topic, n: number): number[] {
    const offsets = Array.from({ length: n }, (_, i) => topic.next + i)
    topic.next += n
    return offsets
  }

  private async whileConsumerPaused(topic: Topic): Promise<void> {
    const key = partitionKey({ topic: topic.name, partition: 0 })
    while (this.consumer?.paused.has(key)) {
      this.resumed ??= Promise.withResolvers<void>()
      await this.resumed.promise
    }
  }

  private wakePublishers(): void {
    const r = this.resumed
    this.resumed = undefined
    r?.resolve()
  }

  private deliver(fn: () => void): void {
    try {
      fn()
    } catch (e) {
      this.onSubscriberError(e)
    }
  }
}
