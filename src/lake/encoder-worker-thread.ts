/**
 * The body of the Parquet encoder thread (`encoder-worker.ts`): encodes each column batch it is
 * sent and answers with every file's bytes in one fresh buffer, transferred back.
 */
import { parentPort } from 'node:worker_threads'
import { isCryptoVizError } from '../errors.ts'
import { prepareColumnFiles } from './column-batch.ts'
import type { EncodeReply, EncodeRequest } from './encoder-worker.ts'

const port = parentPort
if (!port) throw new Error('encoder-worker-thread.ts runs as a worker thread only')

port.on('message', ({ id, batch, options }: EncodeRequest) => {
  let reply: EncodeReply
  try {
    const files = prepareColumnFiles(batch, options)
    const bytes = new Uint8Array(files.reduce((n, f) => n + f.bytes.length, 0))
    let offset = 0
    const out = files.map(({ bytes: b, ...f }) => {
      bytes.set(b, offset)
      offset += b.length
      return { ...f, start: offset - b.length, end: offset }
    })
    port.postMessage({ id, files: out, bytes } satisfies EncodeReply, [bytes.buffer])
    return
  } catch (e) {
    reply = {
      id,
      error: isCryptoVizError(e)
        ? { message: e.message, code: e.code, kind: e.kind, canRetry: e.canRetry, details: e.details }
        : { message: e instanceof Error ? e.message : String(e) },
    }
  }
  port.postMessage(reply)
})
