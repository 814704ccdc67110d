/**
 * A growable output for encoded journal entries: writes go to the end of a large chunk, so
 * encoding one record allocates nothing per record. Entries are cut from the chunk by offset
 * (`[start, end)` of `bytes`); when a chunk is full the unit being written (from `mark`) moves
 * to a fresh chunk and the old one lives on only as long as entries cut from it are referenced.
 */
export class ByteWriter {
  /** The current chunk (a Buffer, for its native string writes). */
  bytes: Buffer
  /** A view of `bytes`, for multi-byte numbers. */
  view: DataView
  /** Where the next byte goes. */
  pos = 0
  /** Start of the unit being written: `grow` keeps `[mark, pos)` together. */
  mark = 0
  /** `bytes.byteLength`, which is slow to read from a typed array on V8 11. */
  private cap: number

  constructor(private readonly chunkBytes = 1 << 20) {
    this.bytes = Buffer.allocUnsafeSlow(chunkBytes)
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, chunkBytes)
    this.cap = chunkBytes
  }

  /** Starts a unit at `pos`. */
  begin(): void {
    this.mark = this.pos
  }

  /** Makes room for `n` more bytes after `pos` (in the current or a fresh chunk). */
  ensure(n: number): void {
    if (this.pos + n > this.cap) this.grow(n)
  }

  private grow(n: number): void {
    const kept = this.pos - this.mark
    const cap = Math.max(this.chunkBytes, 2 * (kept + n))
    const next = Buffer.allocUnsafeSlow(cap)
    next.set(this.bytes.subarray(this.mark, this.pos))
    this.bytes = next
    this.view = new DataView(next.buffer, next.byteOffset, cap)
    this.cap = cap
    this.mark = 0
    this.pos = kept
  }

  u8(b: number): void {
    this.ensure(1)
    this.bytes[this.pos++] = b
  }

  u16(n: number): void {
    this.ensure(2)
    this.view.setUint16(this.pos, n, true)
    this.pos += 2
  }

  u32(n: number): void {
    this.ensure(4)
    this.view.setUint32(this.pos, n, true)
    this.pos += 4
  }

  f64(x: number): void {
    this.ensure(8)
    this.view.setFloat64(this.pos, x, true)
    this.pos += 8
  }

  /** An unsigned LEB128 varint of a uint32. */
  varint(n: number): void {
    this.ensure(5)
    const bytes = this.bytes
    let pos = this.pos
    while (n >= 0x80) {
      bytes[pos++] = (n & 0x7f) | 0x80
      n >>>= 7
    }
    bytes[pos++] = n
    this.pos = pos
  }

  raw(src: Uint8Array): void {
    const n = src.length
    this.ensure(n)
    if (n > 32) {
      this.bytes.set(src, this.pos)
      this.pos += n
      return
    }
    // A loop beats `set` (~100 ns of checks per call) for the few bytes of a tag or a key.
    const bytes = this.bytes
    let pos = this.pos
    for (let i = 0; i < n; i++) bytes[pos++] = src[i]!
    this.pos = pos
  }

  /** Copies `[from, from + length)` of the current chunk (inside the current unit) to `pos`. */
  repeat(from: number, length: number): void {
    const offset = from - this.mark
    this.ensure(length)
    const start = this.mark + offset
    this.bytes.copyWithin(this.pos, start, start + length)
    this.pos += length
  }

  /** Writes `s` as UTF-8; returns the byte count. */
  utf8(s: string): number {
    const n = s.length
    this.ensure(3 * n)
    const bytes = this.bytes
    const start = this.pos
    let pos = start
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) {
        this.pos = pos + bytes.write(s.slice(i), pos, 3 * (n - i), 'utf8')
        return this.pos - start
      }
      bytes[pos++] = c
    }
    this.pos = pos
    return n
  }
}
