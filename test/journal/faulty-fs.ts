import { closeSync, openSync, writeSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { nodeJournalFs, type JournalFile, type JournalFs } from '../../runtime/journal/journal-fs.ts'

/** What the faulty file system does next; tests flip these between steps. */
export interface FaultPlan {
  /** Errno code the next writes fail with (e.g. `EIO`), or undefined. */
  writeError: string | undefined
  /** Errno code the next fdatasyncs fail with, or undefined. */
  syncError: string | undefined
  /** Send writes to /dev/full, so the kernel itself answers ENOSPC. */
  diskFull: boolean
  /** Counters (both kinds of call), and how many of them were the blocking ones. */
  writes: number
  syncs: number
  blockingWrites: number
  blockingSyncs: number
}

/** Zeroes the counters (after opening a journal, which writes and syncs a new segment's header). */
export function zeroCounts(plan: FaultPlan): void {
  plan.writes = plan.syncs = plan.blockingWrites = plan.blockingSyncs = 0
}

function errno(code: string): Error {
  return Object.assign(new Error(`${code}: injected`), { code })
}

/** The real file system with injectable failures and counters. */
export function faultyFs(): { fs: JournalFs; plan: FaultPlan } {
  const plan: FaultPlan = { writeError: undefined, syncError: undefined, diskFull: false, writes: 0, syncs: 0, blockingWrites: 0, blockingSyncs: 0 }
  const fs: JournalFs = {
    ...nodeJournalFs,
    async openForWrite(path) {
      const real: JournalFile = await nodeJournalFs.openForWrite(path)
      return {
        async write(data, position) {
          plan.writes++
          if (plan.writeError !== undefined) {
            await real.write(data.subarray(0, data.byteLength >> 1), position) // a partial write first
            throw errno(plan.writeError)
          }
          if (plan.diskFull) {
            const full = await open('/dev/full', 'w')
            try { await full.write(data, 0, data.byteLength, 0) } finally { await full.close() }
          }
          await real.write(data, position)
        },
        async datasync() {
          plan.syncs++
          if (plan.syncError !== undefined) throw errno(plan.syncError)
          await real.datasync()
        },
        truncate: (length) => real.truncate(length),
        close: () => real.close(),
        // The same faults through the blocking calls.
        blocking: {
          write(data, position) {
            plan.writes++
            plan.blockingWrites++
            if (plan.writeError !== undefined) {
              real.blocking!.write(data.subarray(0, data.byteLength >> 1), position)
              throw errno(plan.writeError)
            }
            if (plan.diskFull) {
              const full = openSync('/dev/full', 'w')
              try { writeSync(full, data, 0, data.byteLength, 0) } finally { closeSync(full) }
            }
            real.blocking!.write(data, position)
          },
          datasync() {
            plan.syncs++
            plan.blockingSyncs++
            if (plan.syncError !== undefined) throw errno(plan.syncError)
            real.blocking!.datasync()
          },
        },
      }
    },
  }
  return { fs, plan }
}
