import { assert } from './assert.ts'
import type { Clock, TimerHandle } from './clock.ts'

/**
 * Virtual time for simulations and tests: a `Clock` whose time moves only when told to.
 * Timers fire in (due time, insertion sequence) order, so two timers due at the same
 * millisecond fire in the order they were set, and one seed replays one run exactly.
 *
 * Two ways to move time:
 * - `advance`, `runUntilIdle` and `step` are synchronous: they run timer callbacks back to
 *   back, so promise continuations scheduled by one timer run only after all of them.
 * - `run` is async: before every timer it drains the microtask queue by awaiting resolved
 *   promises (`microtaskTurns` times; no macrotask, no real timer), so the `.then`s and
 *   `queueMicrotask`s a timer starts (an outbox flush, a delivery, a handler's reply) run
 *   before the next timer fires, as they would on a real event loop. A chain of
 *   continuations deeper than `microtaskTurns` finishes after the next timer instead.
 */
export class SimulatedClock implements Clock {
  private time = 0
  private sequence = 0
  private readonly queue: Timer[] = []
  private readonly live = new Map<number, Timer>()
  private readonly microtaskTurns: number

  /** `microtaskTurns`: promise turns `run` drains before each timer. Default 32. */
  constructor(options: { microtaskTurns?: number } = {}) {
    this.microtaskTurns = options.microtaskTurns ?? microtaskTurnsDefault
    assert(Number.isInteger(this.microtaskTurns) && this.microtaskTurns >= 0, 'microtaskTurns must be a non-negative integer')
  }

  /** Virtual milliseconds since the clock was made. */
  now(): number {
    return this.time
  }

  /** Registers `fn` to run `ms` from now; a negative or non-finite `ms` counts as 0. */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delayMs = Number.isFinite(ms) && ms > 0 ? ms : 0
    const timer: Timer = { id: ++this.sequence, dueMs: this.time + delayMs, fn }
    this.live.set(timer.id, timer)
    heapPush(this.queue, timer)
    return { id: timer.id } as unknown as TimerHandle
  }

  /** Cancels a pending timer; unknown or already-fired handles are ignored. */
  clearTimeout(handle: TimerHandle): void {
    const id = (handle as unknown as { id?: unknown } | null)?.id
    if (typeof id === 'number') this.live.delete(id)
  }

  /** How many timers are set and not yet fired or cleared. */
  pendingTimers(): number {
    return this.live.size
  }

  /** Due time of the next pending timer, or undefined when there is none. */
  nextDueMs(): number | undefined {
    return this.peek()?.dueMs
  }

  /** Fires the next pending timer, moving time to its due time; false when there is none. */
  step(): boolean {
    const timer = this.peek()
    if (!timer) return false
    heapPop(this.queue)
    this.live.delete(timer.id)
    this.time = Math.max(this.time, timer.dueMs)
    timer.fn()
    return true
  }

  /** Moves time forward by `ms`, firing every timer due by then (including ones set meanwhile). */
  advance(ms: number): void {
    assert(Number.isFinite(ms) && ms >= 0, `advance needs a finite, non-negative ms, got ${ms}`)
    const untilMs = this.time + ms
    this.fireUntil(untilMs)
    this.time = untilMs
  }

  /**
   * Fires timers until none is left or the next one is due more than `limitMs` from now.
   * Returns how many fired. Time stays at the last timer fired.
   */
  runUntilIdle(limitMs = Infinity): number {
    return this.fireUntil(this.time + limitMs)
  }

  /**
   * Async run to the absolute virtual time `untilMs` (default: until no timer is left),
   * draining microtasks before each timer and after the last. Returns how many timers fired.
   */
  async run(untilMs = Infinity): Promise<number> {
    let fired = 0
    for (;;) {
      await this.drainMicrotasks()
      const next = this.peek()
      if (!next || next.dueMs > untilMs) break
      assert(++fired <= stepsMax, `more than ${stepsMax} timers in one run: a timer loop?`)
      this.step()
    }
    if (Number.isFinite(untilMs)) this.time = Math.max(this.time, untilMs)
    return fired
  }

  /** Async run for `ms` of virtual time from now (see `run`). */
  runFor(ms: number): Promise<number> {
    assert(Number.isFinite(ms) && ms >= 0, `runFor needs a finite, non-negative ms, got ${ms}`)
    return this.run(this.time + ms)
  }

  private async drainMicrotasks(): Promise<void> {
    for (let i = 0; i < this.microtaskTurns; i++) await Promise.resolve()
  }

  private fireUntil(untilMs: number): number {
    let fired = 0
    for (let next = this.peek(); next && next.dueMs <= untilMs; next = this.peek()) {
      assert(++fired <= stepsMax, `more than ${stepsMax} timers in one run: a timer loop?`)
      this.step()
    }
    return fired
  }

  /** The next live timer, discarding cleared ones from the top of the heap. */
  private peek(): Timer | undefined {
    while (this.queue.length > 0 && !this.live.has(this.queue[0]!.id)) heapPop(this.queue)
    return this.queue[0]
  }
}

/** Promise turns `run` awaits before each timer, by default. */
const microtaskTurnsDefault = 32
/** Timers one `run`, `advance` or `runUntilIdle` may fire before it calls it a runaway loop. */
const stepsMax = 10_000_000

interface Timer {
  readonly id: number
  readonly dueMs: number
  readonly fn: () => void
}

function before(a: Timer, b: Timer): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.id < b.id)
}

function heapPush(heap: Timer[], timer: Timer): void {
  heap.push(timer)
  let i = heap.length - 1
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (!before(heap[i]!, heap[parent]!)) break
    ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
    i = parent
  }
}

function heapPop(heap: Timer[]): void {
  const last = heap.pop()
  if (heap.length === 0 || !last) return
  heap[0] = last
  let i = 0
  for (;;) {
    const left = 2 * i + 1
    const right = left + 1
    let smallest = i
    if (left < heap.length && before(heap[left]!, heap[smallest]!)) smallest = left
    if (right < heap.length && before(heap[right]!, heap[smallest]!)) smallest = right
    if (smallest === i) return
    ;[heap[i], heap[smallest]] = [heap[smallest]!, heap[i]!]
    i = smallest
  }
}
