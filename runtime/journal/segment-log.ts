import { isTroupeError, TroupeError } from '../errors.ts'
import { scanFrames, segmentHeader, type Crc32c } from './frame.ts'
import { pathIn, type JournalFile, type JournalFs } from './journal-fs.ts'

const segmentName = /^(\d{12})\.seg$/

/** The first preallocation of a segment, and the most one preallocation writes (bytes). */
const preallocateFirstBytes = 1024 * 1024
const preallocateMaxBytes = 8 * 1024 * 1024

/** The file name of segment `id`. */
export function segmentFile(id: number): string {
  return `${String(id).padStart(12, '0')}.seg`
}

/**
 * Whether a segment starts with the header this troupe writes: `ok`; `torn`, a segment a crash
 * interrupted at its creation (empty, or the header's bytes with some never written, as zeros,
 * and nothing after them); or `foreign`.
 */
function headerOf(bytes: Uint8Array): 'ok' | 'torn' | 'foreign' {
  const n = segmentHeader.byteLength
  if (bytes.byteLength >= n && segmentHeader.every((b, i) => bytes[i] === b)) return 'ok'
  return bytes.every((b, i) => b === 0 || (i < n && b === segmentHeader[i])) ? 'torn' : 'foreign'
}

/** Why a segment without this troupe's header is refused. */
function foreignSegment(bytes: Uint8Array, name: string): TroupeError {
  const magic = segmentHeader.subarray(0, 4)
  const version = bytes.byteLength >= 8 && magic.every((b, i) => bytes[i] === b)
    ? new DataView(bytes.buffer, bytes.byteOffset, 8).getUint32(4, true) : undefined
  return new TroupeError('CorruptRecord', version === undefined
    ? `journal segment ${name} does not start with a troupe journal header`
    : `journal segment ${name} is in format version ${version}; this troupe reads version ${segmentHeader[4]}`)
}

/** Maps an I/O error to `StorageFull` (ENOSPC, EDQUOT) or `StorageFailed`. */
export function storageError(error: unknown, doing: string): TroupeError {
  const code = (error as { code?: unknown } | null)?.code
  const why = error instanceof Error ? error.message : String(error)
  const full = code === 'ENOSPC' || code === 'EDQUOT'
  return new TroupeError(full ? 'StorageFull' : 'StorageFailed', `journal ${doing} failed: ${why}`)
}

/**
 * The file journal's segments: append-only files `000000000001.seg`, ... in one directory.
 * Frames go to the newest (active) segment with one positional write and one `fdatasync`; a
 * segment rolls over when the next frame would take it past `segmentBytesMax` (one larger
 * frame gets a segment of its own). A failed write is cut off again (truncate, synced) so later
 * frames never follow garbage; a failed sync poisons the log for writes (after a failed fsync the
 * page cache cannot be trusted), until it is reopened and recovered.
 */
export class SegmentLog {
  private failure: TroupeError | undefined
  /** Bytes of the active segment on disk (data, then preallocated zeros): writes below it change no file metadata. */
  private allocated: number
  /** The zeros being written ahead of the data now, if any. */
  private extending: Promise<void> | undefined
  /** Bytes a preallocation writes ahead: doubles each time the data outruns it (a busy journal extends less often). */
  private chunkBytes = preallocateFirstBytes
  /** Cleared when a preallocation fails (a full disk): the next segment tries again. */
  private preallocating = true
  /**
   * Set when a roll-over failed (a full disk): the next append tries it again before writing.
   * Appending to the old segment instead would put acknowledged frames behind a newer segment
   * file, where a torn tail could no longer be told from damage in the middle of the log.
   */
  private mustRoll = false

  private constructor(
    private readonly fs: JournalFs,
    private readonly dir: string,
    private readonly segmentBytesMax: number,
    private readonly ids: number[],
    private file: JournalFile,
    private offset: number,
    fileBytes: number,
  ) {
    this.allocated = fileBytes
  }

  /**
   * Opens the segments in `dir`, handing every valid frame's payload to `onPayload` in log
   * order. Truncates a torn tail of the newest segment; throws `CorruptRecord` for any other
   * damage, and for a segment of another format.
   */
  static async open(
    fs: JournalFs, dir: string, segmentBytesMax: number, crc: Crc32c,
    onPayload: (segment: number, payload: Uint8Array) => void,
  ): Promise<SegmentLog> {
    try { await fs.mkdir(dir) } catch (error) { throw storageError(error, 'mkdir') }
    let names: string[]
    try { names = await fs.list(dir) } catch (error) { throw storageError(error, 'list') }
    const ids = names.flatMap((n) => { const m = segmentName.exec(n); return m ? [Number(m[1])] : [] }).sort((a, b) => a - b)
    // Compaction deletes the oldest segments only: a gap is a segment lost, with whatever it held.
    for (let i = 1; i < ids.length; i++) {
      if (ids[i] !== ids[i - 1]! + 1) throw new TroupeError('CorruptRecord', `journal segment ${segmentFile(ids[i - 1]! + 1)} is missing from ${dir}: segments ${segmentFile(ids[i - 1]!)} and ${segmentFile(ids[i]!)} are there`)
    }
    let tailBytes = 0, fileBytes = 0
    for (const [i, id] of ids.entries()) {
      let bytes: Uint8Array
      try { bytes = await fs.readFile(pathIn(dir, segmentFile(id))) } catch (error) { throw storageError(error, `read of ${pathIn(dir, segmentFile(id))}`) }
      const last = i === ids.length - 1
      const header = headerOf(bytes)
      if (header === 'torn' && last) {
        // Created, but its header never made it to disk: nothing was ever appended to it.
        if (bytes.byteLength > 0) await SegmentLog.cut(fs, dir, id, 0)
        tailBytes = fileBytes = 0
        continue
      }
      if (header !== 'ok') throw foreignSegment(bytes, segmentFile(id))
      const scan = scanFrames(bytes.subarray(segmentHeader.byteLength), crc)
      if (scan.damage !== undefined) {
        const at = segmentHeader.byteLength + scan.damageAt
        const why = `journal segment ${segmentFile(id)} is corrupt at byte ${at}: a frame or entry there fails its checksum or does not fit`
        if (scan.damage === 'corrupt') throw new TroupeError('CorruptRecord', `${why}, and valid frames follow it`)
        // A torn tail belongs to the newest segment holding frames: only empty ones may follow it.
        const later = await SegmentLog.firstWithFrames(fs, dir, ids.slice(i + 1))
        if (later !== undefined) throw new TroupeError('CorruptRecord', `${why}, and segment ${segmentFile(later)} holds frames after it`)
      }
      try {
        for (const payload of scan.payloads) onPayload(id, payload)
      } catch (error) {
        // Entries that pass their checksums but cannot follow what came before (a seq jump, a
        // segment copied twice): said with the file that holds them.
        if (!isTroupeError(error, 'CorruptRecord')) throw error
        throw new TroupeError('CorruptRecord', `${error.message}, in journal segment ${pathIn(dir, segmentFile(id))}`, error.actor === undefined ? {} : { actor: error.actor })
      }
      tailBytes = segmentHeader.byteLength + scan.validBytes
      fileBytes = scan.damage === 'torn' ? tailBytes : bytes.byteLength
      if (scan.damage === 'torn') await SegmentLog.cut(fs, dir, id, tailBytes)
    }
    if (ids.length === 0) ids.push(1)
    const active = ids[ids.length - 1]!
    let file: JournalFile | undefined
    try {
      file = await fs.openForWrite(pathIn(dir, segmentFile(active)))
      if (tailBytes === 0) tailBytes = fileBytes = await SegmentLog.writeHeader(file)
      // What was read may be only in the page cache (a sync that failed before a restart): made
      // durable now, before anything is appended after it, maybe in a newer segment.
      else await file.datasync()
      await fs.syncDir(dir)
    } catch (error) {
      await file?.close().catch(() => undefined)
      throw storageError(error, 'open')
    }
    return new SegmentLog(fs, dir, segmentBytesMax, ids, file, tailBytes, fileBytes)
  }

  /** The first of `ids` whose segment holds anything but a header (or a cut one) and zeros. */
  private static async firstWithFrames(fs: JournalFs, dir: string, ids: readonly number[]): Promise<number | undefined> {
    for (const id of ids) {
      let bytes: Uint8Array
      try { bytes = await fs.readFile(pathIn(dir, segmentFile(id))) } catch (error) { throw storageError(error, `read of ${pathIn(dir, segmentFile(id))}`) }
      const header = headerOf(bytes)
      if (header === 'foreign' || !bytes.subarray(segmentHeader.byteLength).every((b) => b === 0)) return id
    }
    return undefined
  }

  private static async cut(fs: JournalFs, dir: string, id: number, length: number): Promise<void> {
    try {
      const file = await fs.openForWrite(pathIn(dir, segmentFile(id)))
      try { await file.truncate(length); await file.datasync() } finally { await file.close() }
    } catch (error) { throw storageError(error, 'truncate of a torn tail') }
  }

  /** Writes and syncs a new segment's header; returns its length. */
  private static async writeHeader(file: JournalFile): Promise<number> {
    await file.write(segmentHeader, 0)
    await file.datasync()
    return segmentHeader.byteLength
  }

  /** The failure that stops every later append (a failed fdatasync), until the log is opened again. */
  get broken(): TroupeError | undefined {
    return this.failure
  }

  /** Segment ids, oldest first; the last is the active one. */
  segments(): readonly number[] {
    return this.ids
  }

  /**
   * Appends one frame durably; returns the segment it went to. Rejects with `StorageFull`/`StorageFailed`.
   * `blocking`: write and sync with the file's blocking calls when it has them (small frames).
   */
  async append(frame: Uint8Array, blocking = false): Promise<number> {
    if (this.failure !== undefined) throw this.failure
    if (this.mustRoll || (this.offset > segmentHeader.byteLength && this.offset + frame.byteLength > this.segmentBytesMax)) await this.roll()
    if (this.offset + frame.byteLength > this.allocated && this.extending) {
      // The data outran the zeros: preallocate more at a time. Never write beside zeros being written over the same bytes.
      this.chunkBytes = Math.min(this.chunkBytes * 2, preallocateMaxBytes)
      await this.extending
    }
    const now = blocking ? this.file.blocking : undefined
    try {
      if (now) now.write(frame, this.offset)
      else await this.file.write(frame, this.offset)
    } catch (error) {
      const mapped = storageError(error, 'write')
      await this.extending
      try {
        // Synced before anything else is written: a crash must not find the part written after
        // frames that later went to a newer segment (damage in the middle of the log).
        await this.file.truncate(this.offset)
        await this.file.datasync()
        this.allocated = this.offset
      } catch { this.failure = mapped }
      throw mapped
    }
    try {
      if (now) now.datasync()
      else await this.file.datasync()
    } catch (error) {
      this.failure = storageError(error, 'fdatasync')
      throw this.failure
    }
    this.offset += frame.byteLength
    this.allocated = Math.max(this.allocated, this.offset)
    this.preallocate()
    return this.ids[this.ids.length - 1]!
  }

  /**
   * Keeps zeros written and synced ahead of the data in the active segment (when the file
   * system can): an append then syncs data alone. In the background, never past the segment's
   * size limit; a failure (a full disk) only stops it, appends go on as before. It starts after
   * a segment's first append, so no append waits for it unless the data outruns it.
   */
  private preallocate(): void {
    const preallocate = this.file.preallocate
    if (!preallocate || !this.preallocating || this.extending || this.failure !== undefined) return
    const end = Math.min(this.segmentBytesMax, this.offset + this.chunkBytes)
    if (this.allocated - this.offset >= this.chunkBytes / 2 || end <= this.allocated) return
    const file = this.file, from = this.allocated
    this.extending = preallocate.call(file, from, end - from).then(
      () => { if (this.file === file) this.allocated = Math.max(this.allocated, end) },
      () => { this.preallocating = false }
    ).finally(() => { this.extending = undefined })
  }

  private async roll(): Promise<void> {
    const next = this.ids[this.ids.length - 1]! + 1
    await this.extending
    this.mustRoll = true
    let file: JournalFile | undefined
    try {
      // A retry after a failure opens the same file again and rewrites its header.
      file = await this.fs.openForWrite(pathIn(this.dir, segmentFile(next)))
      await SegmentLog.writeHeader(file)
      await this.fs.syncDir(this.dir)
    } catch (error) {
      await file?.close().catch(() => undefined)
      throw storageError(error, 'segment roll-over')
    }
    const old = this.file
    this.file = file
    this.mustRoll = false
    this.ids.push(next)
    this.offset = this.allocated = segmentHeader.byteLength
    this.preallocating = true
    // Every frame in it is synced: an error closing it loses nothing.
    await old.close().catch(() => undefined)
  }

  /** Deletes the oldest segments while `isDead(id)` holds, never the active one. */
  async deleteDeadPrefix(isDead: (id: number) => boolean): Promise<number[]> {
    const deleted: number[] = []
    while (this.ids.length > 1 && isDead(this.ids[0]!)) {
      const id = this.ids[0]!
      // One at a time, oldest first, each made durable before the next: a crash then leaves a
      // suffix of the log. Unsynced unlinks may land in any order, and an older segment back
      // without a newer one would leave its keys with a gap.
      try { await this.fs.unlink(pathIn(this.dir, segmentFile(id))) } catch (error) { throw storageError(error, 'unlink') }
      this.ids.shift()
      deleted.push(id)
      try { await this.fs.syncDir(this.dir) } catch (error) { throw storageError(error, 'directory sync') }
    }
    return deleted
  }

  /** Closes the active segment. */
  async close(): Promise<void> {
    await this.extending
    await this.file.close()
  }
}
