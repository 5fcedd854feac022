/**
 * Snappy compression (raw block format) into a reused output buffer. The algorithm and its
 * output are those of hyparquet-writer's `snappyCompress` (itself snappyjs, MIT, © 2016 Zhipeng
 * Jia), byte for byte (test/lake/snappy-compress.test.ts), but that one grows a fresh buffer by
 * doubling for every page: for a checkpoint's ~1 MB stats page, ~1 MB of short-lived native
 * buffers per row group. Here the output is written into one buffer sized for the worst case
 * (`32 + n + n/6` bytes) and kept for the next page.
 *
 * Invariant: the returned bytes are a view of the compressor's buffer, valid until its next
 * `compress` call; copy them out before compressing again.
 */

const MAX_HASH_TABLE_BITS = 14
const MAX_OFFSET = 0xffff
const INPUT_MARGIN = 15

const hashFunc = (key: number, shift: number): number => Math.imul(key, 0x1e35a7bd) >>> shift

const load32 = (a: Uint8Array, pos: number): number =>
  a[pos]! + (a[pos + 1]! << 8) + (a[pos + 2]! << 16) + (a[pos + 3]! << 24)

const equals32 = (a: Uint8Array, p1: number, p2: number): boolean =>
  a[p1] === a[p2] && a[p1 + 1] === a[p2 + 1] && a[p1 + 2] === a[p2 + 2] && a[p1 + 3] === a[p2 + 3]

export class SnappyCompressor {
  private out = new Uint8Array(1 << 16)
  private pos = 0
  private readonly hashTables: (Uint32Array | undefined)[] = []

  /** The compressed bytes of `input` (a view, valid until the next call). */
  compress(input: Uint8Array): Uint8Array {
    const worst = 32 + input.length + Math.ceil(input.length / 6)
    if (this.out.length < worst) this.out = new Uint8Array(Math.max(worst, this.out.length * 2))
    this.pos = 0
    this.varInt(input.length)
    this.compressInput(input)
    return this.out.subarray(0, this.pos)
  }

  private byte(b: number): void {
    this.out[this.pos++] = b & 0xff
  }

  private varInt(value: number): void {
    while ((value & ~0x7f) !== 0) {
      this.byte((value & 0x7f) | 0x80)
      value >>>= 7
    }
    this.byte(value)
  }

  private literal(input: Uint8Array, ip: number, len: number): void {
    if (len <= 60) this.byte((len - 1) << 2)
    else {
      const value = len - 1
      const bytes = value < 0x100 ? 1 : value < 0x10000 ? 2 : value < 0x1000000 ? 3 : 4
      this.byte((59 + bytes) << 2)
      for (let i = 0; i < bytes; i++) this.byte(value >>> (i * 8))
    }
    this.out.set(input.subarray(ip, ip + len), this.pos)
    this.pos += len
  }

  private copyLessThan64(offset: number, len: number): void {
    if (len < 12 && offset < 2048) {
      this.byte(1 + ((len - 4) << 2) + ((offset >>> 8) << 5))
      this.byte(offset & 0xff)
    } else {
      this.byte(2 + ((len - 1) << 2))
      this.byte(offset & 0xff)
      this.byte(offset >>> 8)
    }
  }

  private copy(offset: number, len: number): void {
    while (len >= 68) {
      this.copyLessThan64(offset, 64)
      len -= 64
    }
    if (len > 64) {
      this.copyLessThan64(offset, 60)
      len -= 60
    }
    this.copyLessThan64(offset, len)
  }

  private compressInput(input: Uint8Array): void {
    const inputSize = input.length
    let hashTableBits = 1
    while (1 << hashTableBits <= inputSize && hashTableBits <= MAX_HASH_TABLE_BITS) hashTableBits++
    hashTableBits--
    const shift = 32 - hashTableBits
    const table = (this.hashTables[hashTableBits] ??= new Uint32Array(1 << hashTableBits))
    table.fill(0)
    let ip = 0
    let nextEmit = 0
    if (inputSize >= INPUT_MARGIN) {
      const ipLimit = inputSize - INPUT_MARGIN
      ip++
      let nextHash = hashFunc(load32(input, ip), shift)
      let going = true
      while (going) {
        let skip = 32
        let nextIp = ip
        let candidate = 0
        do {
          ip = nextIp
          const hash = nextHash
          const bytesBetweenHashLookups = skip >>> 5
          skip++
          nextIp = ip + bytesBetweenHashLookups
          if (ip > ipLimit) {
            going = false
            break
          }
          nextHash = hashFunc(load32(input, nextIp), shift)
          candidate = table[hash]!
          table[hash] = ip
        } while (ip - candidate > MAX_OFFSET || !equals32(input, ip, candidate))
        if (!going) break
        this.literal(input, nextEmit, ip - nextEmit)
        do {
          const base = ip
          let matched = 4
          while (ip + matched < inputSize && input[ip + matched] === input[candidate + matched]) matched++
          ip += matched
          this.copy(base - candidate, matched)
          nextEmit = ip
          if (ip >= ipLimit) {
            going = false
            break
          }
          const prevHash = hashFunc(load32(input, ip - 1), shift)
          table[prevHash] = ip - 1
          const curHash = hashFunc(load32(input, ip), shift)
          candidate = table[curHash]!
          table[curHash] = ip
        } while (ip - candidate <= MAX_OFFSET && equals32(input, ip, candidate))
        if (!going) break
        ip++
        nextHash = hashFunc(load32(input, ip), shift)
      }
    }
    if (nextEmit < inputSize) this.literal(input, nextEmit, inputSize - nextEmit)
  }
}
