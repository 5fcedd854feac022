/**
 * Encoding column batches into Parquet files on a worker thread, so a writer's main thread keeps
 * receiving and decoding while a batch is encoded (the processor's main thread is its bottleneck;
 * the second core was mostly idle).
 *
 * Invariants:
 * - The batch's buffers are transferred, not copied: the caller must not touch the batch after
 *   `encode` (the processor builds a fresh one per attempt).
 * - The files come back in one transferred buffer; each file's `bytes` is a view into it.
 * - A worker failure is the caller's failure: a CryptoVizError thrown in the worker is re-thrown
 *   with its code, kind and details; a crashed worker fails every pending request, and the next
 *   `encode` starts a new one.
 * - The worker is unref'd while idle: it never keeps a process alive.
 */
import { Worker } from 'node:worker_threads'
import { CryptoVizError, type ErrorCode, type ErrorKind } from '../errors.ts'
import { batchBuffers, prepareColumnFiles, type ColumnBatch } from './column-batch.ts'
import type { DataFileOptions, PreparedFile } from './data-files.ts'

/** Turns a column batch into Parquet files (in this thread or another). */
export interface FileEncoder {
  encode(batch: ColumnBatch, o: DataFileOptions): Promise<PreparedFile[]>
  close(): Promise<void>
}

/** Encodes on the calling thread (tests, one-off appends). */
export const inThreadEncoder: FileEncoder = {
  encode: async (batch, o) => prepareColumnFiles(batch, o),
  close: async () => undefined,
}

/** A request to the worker. */
export interface EncodeRequest {
  id: number
  batch: ColumnBatch
  options: DataFileOptions
}

/** The worker's answer: the files with their bytes at `[start, end)` of `bytes`, or the error. */
export type EncodeReply =
  | {
      id: number
      files: Array<Omit<PreparedFile, 'bytes'> & { start: number; end: number }>
      bytes: Uint8Array
    }
  | {
      id: number
      error: { message: string; code?: ErrorCode; kind?: ErrorKind; canRetry?: boolean; details?: unknown }
    }

const WORKER_URL = new URL('./encoder-worker-thread.ts', import.meta.url)

export class WorkerEncoder implements FileEncoder {
  private worker: Worker | undefined
  private nextId = 0
  private readonly pending = new Map<
    number,
    { resolve: (f: PreparedFile[]) => void; reject: (e: Error) => void }
  >()

  encode(batch: ColumnBatch, options: DataFileOptions): Promise<PreparedFile[]> {
    const worker = this.started()
    const id = this.nextId++
    const done = new Promise<PreparedFile[]>((resolve, reject) => this.pending.set(id, { resolve, reject }))
    if (this.pending.size === 1) worker.ref()
    worker.postMessage({ id, batch, options } satisfies EncodeRequest, batchBuffers(batch))
    return done
  }

  async close(): Promise<void> {
    const worker = this.worker
    this.worker = undefined
    await worker?.terminate()
  }

  private started(): Worker {
    if (this.worker) return this.worker
    const worker = new Worker(WORKER_URL)
    worker.unref()
    worker.on('message', (reply: EncodeReply) => this.settle(reply))
    const fail = (e: Error): void => {
      if (this.worker === worker) this.worker = undefined
      for (const p of this.pending.values()) p.reject(e)
      this.pending.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`the Parquet encoder thread exited (code ${code})`)))
    this.worker = worker
    return worker
  }

  private settle(reply: EncodeReply): void {
    const p = this.pending.get(reply.id)
    if (!p) return
    this.pending.delete(reply.id)
    if (this.pending.size === 0) this.worker?.unref()
    if ('error' in reply) {
      const e = reply.error
      p.reject(
        e.code === undefined
          ? new Error(e.message)
          : new CryptoVizError(e.code, e.message, {
              ...(e.kind && { kind: e.kind }),
              ...(e.canRetry !== undefined && { canRetry: e.canRetry }),
              ...(e.details !== undefined && { details: e.details as Record<string, unknown> }),
            }),
      )
      return
    }
    p.resolve(reply.files.map(({ start, end, ...f }) => ({ ...f, bytes: reply.bytes.subarray(start, end) })))
  }
}
