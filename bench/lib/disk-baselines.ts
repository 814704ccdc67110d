/**
 * The disk baselines a durable write is compared with, measured on the same directory as the
 * journals under test: raw `write` + `fdatasync` per record, and raw group commit (one write of
 * a batch of records + one fdatasync). Synchronous, on the calling thread, one operation after
 * another: the floor of what any journal on that disk can do.
 */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { percentile } from './samples.ts'

export interface DiskMeasurement {
  /** Records made durable per second. */
  recordsPerSecond: number
  /** Latency of one operation (one record, or one batch), in µs. */
  p50Us: number
  p99Us: number
  operations: number
}

/**
 * Appends `recordsPerOperation` records of `recordBytes` bytes as one write, then fdatasync,
 * over and over for `durationMs`, in a file `name` under `dir` (created, removed afterwards).
 */
export function rawDurableWrites(dir: string, name: string, recordBytes: number, recordsPerOperation: number, durationMs: number): DiskMeasurement {
  const path = join(dir, name)
  const fd = openSync(path, 'w')
  const buffer = new Uint8Array(recordBytes * recordsPerOperation).fill(7)
  const latencies: number[] = []
  try {
    const start = performance.now()
    const deadline = start + durationMs
    let t1 = start
    while (t1 < deadline) {
      const t0 = performance.now()
      writeSync(fd, buffer)
      fdatasyncSync(fd)
      t1 = performance.now()
      latencies.push((t1 - t0) * 1000)
    }
    const seconds = (t1 - start) / 1000
    const sorted = Float64Array.from(latencies).sort()
    return { recordsPerSecond: (latencies.length * recordsPerOperation) / seconds, p50Us: percentile(sorted, 0.5), p99Us: percentile(sorted, 0.99), operations: latencies.length }
  } finally {
    closeSync(fd)
    rmSync(path, { force: true })
  }
}
