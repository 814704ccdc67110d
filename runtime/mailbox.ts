import { assert } from './assert.ts'
import type { TroupeError } from './errors.ts'
import type { MethodMode } from './registry.ts'

/** One queued call. `start` runs it and never throws; a returned promise means "still running". */
export interface Job {
  readonly mode: MethodMode
  start(): PromiseLike<unknown> | undefined
  /** Answers the call with an error without running it (activation failed, host stopping). */
  reject(error: TroupeError): void
}

/**
 * An activation's mailbox: turns run one at a time in arrival order; read-only jobs may run
 * together (never beside a write); reentrant jobs start as soon as they reach the head. Bounded:
 * `offer` refuses a job once `depthMax` are waiting.
 */
export class Mailbox {
  private readonly queue: Job[] = []
  private head = 0
  private writers = 0
  private readers = 0
  private reentrants = 0
  private paused = true
  private pumping = false
  private readonly depthMax: number
  private idleWaiters: Array<() => void> = []

  constructor(depthMax: number) {
    this.depthMax = depthMax
  }

  /** Jobs waiting (not yet started). */
  get depth(): number {
    return this.queue.length - this.head
  }

  /** Jobs started and not yet finished. */
  get running(): number {
    return this.writers + this.readers + this.reentrants
  }

  /** True while a write turn is running. */
  get writing(): boolean {
    return this.writers > 0
  }

  /**
   * Whether a job of `mode` offered now would wait: behind a queued job (one is queued only while
   * it cannot start), or beside running turns it may not run with (a write beside a write or a
   * read, a read beside a write; running reentrant turns block nothing). A call from a turn that
   * this actor's turns wait on, and that would wait, is a deadlock.
   */
  wouldWait(mode: MethodMode): boolean {
    if (this.depth > 0) return true
    if (mode === 'write') return this.writers > 0 || this.readers > 0
    if (mode === 'read') return this.writers > 0
    return false
  }

  get idle(): boolean {
    return this.depth === 0 && this.running === 0
  }

  /** Queues a job; false when the mailbox is full. */
  offer(job: Job): boolean {
    if (this.depth >= this.depthMax) return false
    this.queue.push(job)
    this.pump()
    return true
  }

  /** Queues a job ahead of every waiting one (a turn a new activation must finish first); never refused. */
  offerFirst(job: Job): void {
    this.queue.splice(this.head, 0, job)
    this.pump()
  }

  /** Starts running jobs (after activation). */
  resume(): void {
    this.paused = false
    this.pump()
  }

  /** Removes `job` if it is still waiting (not started); true when it was. */
  withdraw(job: Job): boolean {
    const at = this.queue.indexOf(job, this.head)
    if (at < 0) return false
    this.queue.splice(at, 1)
    return true
  }

  /** Removes every waiting job (they have not started) and returns them. */
  drain(): Job[] {
    const waiting = this.queue.slice(this.head)
    this.queue.length = 0
    this.head = 0
    return waiting
  }

  /** Resolves when nothing is waiting or running. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private pump(): void {
    if (this.pumping) return // a job that offers another synchronously: the loop below takes it
    this.pumping = true
    try {
      while (!this.paused && this.head < this.queue.length) {
        const job = this.queue[this.head]!
        if (job.mode === 'write' && (this.writers > 0 || this.readers > 0)) break
        if (job.mode === 'read' && this.writers > 0) break
        this.take()
        this.count(job.mode, +1)
        const pending = job.start()
        // Synchronous jobs finish here, in the loop, so a long queue never deepens the stack.
        if (pending === undefined) this.count(job.mode, -1)
        else pending.then(() => this.finish(job.mode), () => this.finish(job.mode))
      }
    } finally {
      this.pumping = false
    }
    if (this.idle && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const resolve of waiters) resolve()
    }
  }

  private take(): void {
    this.head++
    if (this.head === this.queue.length) {
      this.queue.length = 0
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head)
      this.head = 0
    }
  }

  private count(mode: MethodMode, delta: number): void {
    if (mode === 'write') this.writers += delta
    else if (mode === 'read') this.readers += delta
    else this.reentrants += delta
    assert(this.writers >= 0 && this.readers >= 0 && this.reentrants >= 0, 'mailbox finished a job it never started')
    assert(this.writers <= 1, 'mailbox ran two write turns at once')
  }

  private finish(mode: MethodMode): void {
    this.count(mode, -1)
    this.pump()
  }
}
