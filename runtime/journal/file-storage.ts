import { assert } from '../assert.ts'
import { decodeValue, encodeValue, type JournalCodec } from './codec.ts'
import { keyBytesOf, opBytes, readEntries, writeEntries, type FileOp } from './file-entries.ts'
import { FileIndex } from './file-index.ts'
import { frameHeaderBytes, loadFrameChecksum, sealFrame, type FrameChecksum } from './frame.ts'
import { GroupCommit } from './group-commit.ts'
import { nodeJournalFs, type JournalFs } from './journal-fs.ts'
import { SegmentLog } from './segment-log.ts'
import { SeqTracker } from './seq-tracker.ts'
import { fromSeqSlice, type JournalRecord, type JournalSnapshot, type JournalStorage } from './storage.ts'
import { v8Codec } from './v8-codec.ts'

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
}

/** The file journal's defaults (all but `dir`). */
export const defaultFileJournalOptions: Readonly<Omit<FileJournalOptions, 'dir'>> = Object.freeze({
  segmentBytesMax: 64 * 1024 * 1024,
  batchOpsMax: 4096,
  batchBytesMax: 8 * 1024 * 1024,
  fs: nodeJournalFs,
  codec: v8Codec,
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
  private closed = false

  private constructor(
    private readonly options: FileJournalOptions,
    private readonly log: SegmentLog,
    private readonly index: FileIndex,
    private readonly checksum: FrameChecksum,
  ) {
    for (const [key, head] of index.heads()) this.tracker.restore(key, head)
    this.commits = new GroupCommit<FileOp>((ops) => this.commit(ops), options, opBytes,
      () => this.tracker.rollback(), () => this.tracker.settle())
  }

  /** Opens (creating or recovering) the journal in `options.dir`. */
  static async open(options: Partial<FileJournalOptions> & { dir: string }): Promise<FileJournalStorage> {
    const resolved: FileJournalOptions = { ...defaultFileJournalOptions, ...options }
    for (const name of ['segmentBytesMax', 'batchOpsMax', 'batchBytesMax'] as const) {
      assert(Number.isSafeInteger(resolved[name]) && resolved[name] > 0, `${name} must be a positive integer`)
    }
    const checksum = await loadFrameChecksum()
    const index = new FileIndex()
    const log = await SegmentLog.open(resolved.fs, resolved.dir, resolved.segmentBytesMax, checksum, (segment, payload) => {
      for (const e of readEntries(payload)) {
        if (e.kind === 'record') index.addRecord(e.key, { seq: e.seq, epoch: e.epoch, body: e.body, segment })
        else if (e.kind === 'snapshot') index.setSnapshot(e.key, { seq: e.seq, epoch: e.epoch, body: e.body, segment })
        else if (e.kind === 'install') index.install(e.key, { seq: e.seq, epoch: e.epoch, body: e.body, segment })
        else index.compact(e.key, e.seq)
      }
    })
    return new FileJournalStorage(resolved, log, index, checksum)
  }

  /** See `JournalStorage.append`. */
  async append(key: string, records: readonly JournalRecord[]): Promise<void> {
    this.checkOpen()
    const keyBytes = keyBytesOf(key)
    const copies = records.map((r) => ({ seq: r.seq, epoch: r.epoch, requestId: r.requestId, patch: r.patch, result: r.result }))
    const bodies = copies.map((r) => encodeValue(this.options.codec, r, key))
    this.tracker.reserveRecords(key, copies)
    return this.commits.submit({ kind: 'records', key, keyBytes, records: copies, bodies })
  }

  /** See `JournalStorage.read`. */
  async read(key: string, fromSeq = 0): Promise<JournalRecord[]> {
    this.checkOpen()
    return fromSeqSlice(this.index.records(key), fromSeq).map((r) => decodeValue(this.options.codec, r.body, key) as JournalRecord)
  }

  /** See `JournalStorage.writeSnapshot`. */
  async writeSnapshot(key: string, snapshot: JournalSnapshot): Promise<void> {
    this.checkOpen()
    const keyBytes = keyBytesOf(key)
    const copy = { seq: snapshot.seq, epoch: snapshot.epoch, state: snapshot.state }
    const body = encodeValue(this.options.codec, copy, key)
    this.tracker.reserveSnapshot(key, copy)
    return this.commits.submit({ kind: 'snapshot', key, keyBytes, snapshot: copy, body })
  }

  /**
   * See `JournalStorage.installSnapshot`: one install entry (the snapshot and a marker that drops
   * the key's earlier records on recovery); deletes the oldest segments it left without live data.
   */
  async installSnapshot(key: string, snapshot: JournalSnapshot): Promise<void> {
    this.checkOpen()
    const keyBytes = keyBytesOf(key)
    const copy = { seq: snapshot.seq, epoch: snapshot.epoch, state: snapshot.state }
    const body = encodeValue(this.options.codec, copy, key)
    this.tracker.reserveInstall(key, copy)
    return this.commits.submit({ kind: 'install', key, keyBytes, snapshot: copy, body })
  }

  /** See `JournalStorage.readSnapshot`. */
  async readSnapshot(key: string): Promise<JournalSnapshot | undefined> {
    this.checkOpen()
    const snapshot = this.index.snapshot(key)
    return snapshot === undefined ? undefined : decodeValue(this.options.codec, snapshot.body, key) as JournalSnapshot
  }

  /** See `JournalStorage.compact`; also deletes the oldest segments left without live data. */
  async compact(key: string, uptoSeq: number): Promise<void> {
    this.checkOpen()
    this.tracker.checkCompact(key, uptoSeq)
    return this.commits.submit({ kind: 'compact', key, keyBytes: keyBytesOf(key), uptoSeq })
  }

  /** See `JournalStorage.keys`. */
  async keys(): Promise<string[]> {
    this.checkOpen()
    return this.index.keys()
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

  private async commit(ops: FileOp[]): Promise<void> {
    let bytes = 0
    for (const op of ops) bytes += opBytes(op)
    const frame = new Uint8Array(frameHeaderBytes + bytes)
    const bodies = writeEntries(ops, frame, frameHeaderBytes)
    sealFrame(frame, this.checksum)
    const segment = await this.log.append(frame)
    let compacted = false, b = 0
    for (const op of ops) {
      if (op.kind === 'records') {
        for (const r of op.records) this.index.addRecord(op.key, { seq: r.seq, epoch: r.epoch, body: bodies[b++]!, segment })
        this.tracker.commitRecords(op.key, op.records)
      } else if (op.kind === 'snapshot') {
        this.index.setSnapshot(op.key, { seq: op.snapshot.seq, epoch: op.snapshot.epoch, body: bodies[b++]!, segment })
        this.tracker.commitSnapshot(op.key, op.snapshot)
      } else if (op.kind === 'install') {
        this.index.install(op.key, { seq: op.snapshot.seq, epoch: op.snapshot.epoch, body: bodies[b++]!, segment })
        this.tracker.commitInstall(op.key, op.snapshot)
        compacted = true
      } else {
        this.index.compact(op.key, op.uptoSeq)
        compacted = true
      }
    }
    if (compacted) await this.deleteDeadSegments()
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
