import { assert } from '../assert.ts'
import { systemClock, type Clock } from '../clock.ts'
import type { TroupeError } from '../errors.ts'
import { decodeValue, type JournalCodec } from './codec.ts'
import { bodiesIn, EntryWriter, readEntries, type FileOp } from './file-entries.ts'
import { bodyOf, FileIndex } from './file-index.ts'
import { frameHeaderBytes, loadCrc32c, sealFrame, type Crc32c } from './frame.ts'
import { GroupCommit } from './group-commit.ts'
import { nodeJournalFs, type JournalFs } from './journal-fs.ts'
import { SegmentLog } from './segment-log.ts'
import { SeqTracker } from './seq-tracker.ts'
import { type JournalRecord, type JournalSnapshot, type JournalStorage } from './storage.ts'
import { checkRead, checkStoredRecords, checkStoredSnapshot, ownRecords, ownSnapshot } from './validate.ts'
import { v8Codec } from './v8-codec.ts'

const noBytes = new Uint8Array(0)

/** Segments on disk before the oldest is worth reclaiming (see `keysHoldingOldest`). */
const segmentsKeptMin = 3

/** Frames larger than this are never written with blocking calls, whatever `blockingOpsMax` says. */
const blockingBytesMax = 64 * 1024

/** Every limit of the file journal, with its default and unit. */
export interface FileJournalOptions {
  /** Directory holding the segment files (required). */
  dir: string
  /** A segment rolls over before it would grow past this. Default 64 MiB (bytes). */
  segmentBytesMax: number
  /** Writes (appends, snapshots, compactions) coalesced into one write + one fdatasync at most. Default 4096. */
  batchOpsMax: number
  /** Payload bytes coalesced into one frame at most. Default 8 MiB (bytes); one larger write goes alone. */
  batchBytesMax: number
  /** File operations. Default: the real file system (`nodeJournalFs`). */
  fs: JournalFs
  /** Value encoding. Default: `v8Codec`. */
  codec: JournalCodec
  /**
   * A batch of at most this many writes (and at most 64 KiB) is written and synced with blocking
   * calls (a lone write's latency: no thread-pool round trips); larger batches use asynchronous
   * I/O, so the thread keeps working while the disk syncs. 0: never block. Default 16.
   */
  blockingOpsMax: number
  /**
   * ...and only when the journal's previous commit ended at least this long ago: a quiet host
   * (one update alone) blocks for latency, a busy one keeps serving while the disk syncs (a
   * blocked thread answers no shipment nor acknowledgement, and with 64 updates in flight on
   * three hosts blocking halved the throughput). Default 0.25 (ms); 0: whenever the batch is small.
   */
  blockingAfterQuietMs: number
  /** Time source for `blockingAfterQuietMs`. Default: the system clock. */
  clock: Pick<Clock, 'now'>
}

/** The file journal's defaults (all but `dir`). */
export const defaultFileJournalOptions: Readonly<Omit<FileJournalOptions, 'dir'>> = Object.freeze({
  segmentBytesMax: 64 * 1024 * 1024,
  batchOpsMax: 4096,
  batchBytesMax: 8 * 1024 * 1024,
  fs: nodeJournalFs,
  codec: v8Codec,
  blockingOpsMax: 16,
  blockingAfterQuietMs: 0.25,
  clock: systemClock,
})

/**
 * Node adapter: the journal in append-only segment files with group commit. Concurrent writes
 * from any number of keys coalesce into one frame, one write and one `fdatasync`; a write
 * resolves only after its frame is synced, and a failed batch rejects every write in it (and
 * every write queued behind it) so nothing is acknowledged. Reads are served from an
 * in-memory index of the encoded records, rebuilt from the segments on open (see `SegmentLog`).
 */
export class FileJournalStorage implements JournalStorage {
  private readonly tracker = new SeqTracker()
  private readonly commits: GroupCommit<FileOp>
  /** When the last commit's write and sync ended (`options.clock`), for `blockingAfterQuietMs`. */
  private lastCommitEndMs = Number.NEGATIVE_INFINITY
  private readonly entries: EntryWriter
  private closed = false

  private constructor(
    private readonly options: FileJournalOptions,
    private readonly log: SegmentLog,
    private readonly index: FileIndex,
    private readonly crc: Crc32c,
  ) {
    for (const [key, head] of index.heads()) this.tracker.restore(key, head)
    this.entries = new EntryWriter(options.codec, crc)
    this.commits = new GroupCommit<FileOp>((ops) => this.commit(ops), options, (op) => op.end - op.start,
      () => this.tracker.rollback(), () => this.tracker.settle())
  }

  /**
   * The newest view epoch any record or snapshot in this journal carries (0 when empty). A
   * cluster restarted on its journals must start above it: its records would otherwise look
   * older than what the backups already hold, and be fenced.
   */
  epochMax(): number {
    let max = 0
    for (const head of this.index.heads().values()) max = Math.max(max, head.epoch, head.snapshotEpoch)
    return max
  }

  /** See `JournalStorage.broken`. */
  broken(): TroupeError | undefined {
    return this.log.broken
  }

  /** Opens (creating or recovering) the journal in `options.dir`. */
  static async open(options: Partial<FileJournalOptions> & { dir: string }): Promise<FileJournalStorage> {
    const resolved: FileJournalOptions = { ...defaultFileJournalOptions, ...options }
    for (const name of ['segmentBytesMax', 'batchOpsMax', 'batchBytesMax'] as const) {
      assert(Number.isSafeInteger(resolved[name]) && resolved[name] > 0, `${name} must be a positive integer`)
    }
    assert(Number.isSafeInteger(resolved.blockingOpsMax) && resolved.blockingOpsMax >= 0, 'blockingOpsMax must be a non-negative integer')
    assert(typeof resolved.blockingAfterQuietMs === 'number' && Number.isFinite(resolved.blockingAfterQuietMs) && resolved.blockingAfterQuietMs >= 0, 'blockingAfterQuietMs must be a non-negative number')
    const crc = await loadCrc32c()
    const index = new FileIndex()
    const log = await SegmentLog.open(resolved.fs, resolved.dir, resolved.segmentBytesMax, crc, (segment, payload) => {
      for (const e of readEntries(payload)) {
        const indexed = { seq: e.seq, epoch: e.epoch, bytes: e.body, at: 0, length: e.body.byteLength, segment }
        if (e.kind === 'record') index.addRecord(e.key, e.seq, e.epoch, e.body, 0, e.body.byteLength, segment)
        else if (e.kind === 'snapshot') index.setSnapshot(e.key, indexed)
        else if (e.kind === 'install') index.install(e.key, indexed)
        else index.compact(e.key, e.seq)
      }
    })
    return new FileJournalStorage(resolved, log, index, crc)
  }

  /** See `JournalStorage.append`. */
  append(key: string, records: readonly JournalRecord[]): Promise<void> {
    try {
      this.checkOpen()
      const copies = ownRecords(records)
      return this.submit({ kind: 'records', key, records: copies, chunk: noBytes, start: 0, end: 0 },
        () => this.tracker.reserveRecords(key, copies))
    } catch (error) { return Promise.reject(error) }
  }

  /** See `JournalStorage.read`. */
  async read(key: string, fromSeq = 0): Promise<JournalRecord[]> {
    this.checkOpen()
    checkRead(key, fromSeq)
    const { first, bodies } = this.index.records(key, fromSeq)
    // Bodies passed their entries' checksums; the decoded values must still be the records the index says.
    const records = bodies.map((body) => decodeValue(this.options.codec, body, key))
    return checkStoredRecords(key, records, fromSeq, first)
  }

  /** See `JournalStorage.writeSnapshot`. */
  writeSnapshot(key: string, snapshot: JournalSnapshot): Promise<void> {
    try {
      this.checkOpen()
      const copy = ownSnapshot(snapshot)
      return this.submit({ kind: 'snapshot', key, snapshot: copy, chunk: noBytes, start: 0, end: 0 },
        () => this.tracker.reserveSnapshot(key, copy))
    } catch (error) { return Promise.reject(error) }
  }

  /**
   * See `JournalStorage.installSnapshot`: one install entry (the snapshot and a marker that drops
   * the key's earlier records on recovery); deletes the oldest segments it left without live data.
   */
  installSnapshot(key: string, snapshot: JournalSnapshot): Promise<void> {
    try {
      this.checkOpen()
      const copy = ownSnapshot(snapshot)
      return this.submit({ kind: 'install', key, snapshot: copy, chunk: noBytes, start: 0, end: 0 },
        () => this.tracker.reserveInstall(key, copy))
    } catch (error) { return Promise.reject(error) }
  }

  /** See `JournalStorage.readSnapshot`. */
  async readSnapshot(key: string): Promise<JournalSnapshot | undefined> {
    this.checkOpen()
    checkRead(key)
    const snapshot = this.index.snapshot(key)
    if (snapshot === undefined) return undefined
    return checkStoredSnapshot(key, decodeValue(this.options.codec, bodyOf(snapshot), key), snapshot)
  }

  /** See `JournalStorage.compact`; also deletes the oldest segments left without live data. */
  compact(key: string, uptoSeq: number): Promise<void> {
    try {
      this.checkOpen()
      return this.submit({ kind: 'compact', key, uptoSeq, chunk: noBytes, start: 0, end: 0 },
        () => this.tracker.checkCompact(key, uptoSeq))
    } catch (error) { return Promise.reject(error) }
  }

  /** See `JournalStorage.keys`. */
  async keys(): Promise<string[]> {
    this.checkOpen()
    return this.index.keys()
  }

  /**
   * See `JournalStorage.keysHoldingOldest`: the keys with live entries in the oldest segment, once
   * `segmentsKeptMin` segments or more are on disk (the newest is being written; the one before
   * it may still hold records that compact by themselves soon).
   */
  keysHoldingOldest(max: number): string[] {
    const ids = this.log.segments()
    if (this.closed || ids.length < segmentsKeptMin) return []
    return this.index.keysIn(ids[0]!, max)
  }

  /** Segment ids on disk, oldest first (for tests and tools). */
  segments(): readonly number[] {
    return this.log.segments()
  }

  /** See `JournalStorage.close`. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.commits.drain()
    await this.log.close()
  }

  private checkOpen(): void {
    assert(!this.closed, 'journal storage used after close')
  }

  /**
   * Encodes `op` (so a value the codec refuses fails alone), then runs `check` (the tracker's
   * assertions, which reserve the op's place in its key's log; on failure the entries are
   * dropped again) and queues it for group commit.
   */
  private submit(op: FileOp, check: () => void): Promise<void> {
    this.entries.write(op)
    try { check() } catch (error) { this.entries.discard(op); throw error }
    return this.commits.submit(op)
  }

  private async commit(ops: FileOp[]): Promise<void> {
    const frame = this.frameOf(ops)
    // A blocking sync freezes this thread: only for a few small writes, on a quiet journal.
    const quiet = this.options.clock.now() - this.lastCommitEndMs >= this.options.blockingAfterQuietMs
    const written = this.log.append(frame, quiet && ops.length <= this.options.blockingOpsMax && frame.byteLength <= blockingBytesMax)
    // While the frame is written and synced: where its bodies are (they stay in the frame, so
    // the index keeps one buffer per batch, not one per record). They go into the index only
    // once the frame is durable.
    const bodies = bodiesIn(frame, frameHeaderBytes)
    const segment = await written.finally(() => { this.lastCommitEndMs = this.options.clock.now() })
    let compacted = false, b = 0, records = 0
    for (const op of ops) {
      if (op.kind === 'records') {
        for (const r of op.records) {
          this.index.addRecord(op.key, r.seq, r.epoch, frame, bodies[b]!, bodies[b + 1]!, segment, true)
          b += 2
        }
        records += op.records.length
        this.tracker.commitRecords(op.key, op.records)
      } else if (op.kind === 'compact') {
        this.index.compact(op.key, op.uptoSeq)
        compacted = true
      } else {
        const snapshot = { seq: op.snapshot.seq, epoch: op.snapshot.epoch, bytes: frame, at: bodies[b]!, length: bodies[b + 1]!, segment }
        b += 2
        if (op.kind === 'snapshot') {
          this.index.setSnapshot(op.key, snapshot)
          this.tracker.commitSnapshot(op.key, op.snapshot)
        } else {
          this.index.install(op.key, snapshot)
          this.tracker.commitInstall(op.key, op.snapshot)
          compacted = true
        }
      }
    }
    this.index.countLive(segment, records)
    if (compacted) await this.deleteDeadSegments()
  }

  /** The batch's frame: its ops' encoded entries copied in (one copy per contiguous run), sealed. */
  private frameOf(ops: readonly FileOp[]): Uint8Array {
    let bytes = 0
    for (const op of ops) bytes += op.end - op.start
    const frame: Uint8Array = Buffer.allocUnsafeSlow(frameHeaderBytes + bytes) // every byte is written below
    let offset = frameHeaderBytes, chunk: Uint8Array | undefined, start = 0, end = 0
    for (const op of ops) {
      if (op.chunk === chunk && op.start === end) { end = op.end; continue }
      if (chunk !== undefined) { frame.set(chunk.subarray(start, end), offset); offset += end - start }
      chunk = op.chunk; start = op.start; end = op.end
    }
    if (chunk !== undefined) frame.set(chunk.subarray(start, end), offset)
    sealFrame(frame, this.crc)
    return frame
  }

  private async deleteDeadSegments(): Promise<void> {
    try {
      const deleted = await this.log.deleteDeadPrefix((id) => this.index.liveIn(id) === 0)
      for (const id of deleted) this.index.forget(id)
    } catch {
      // The segments stay and are retried at the next compaction; reads and recovery stay correct.
    }
  }
}
