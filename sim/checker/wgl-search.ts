import type { Operation } from './history.ts'
import type { Call, Model } from './models.ts'

/** One operation of a single key, prepared for the search. */
export interface SearchOp<I> {
  readonly op: Operation
  readonly input: I
  /** Whether the output is known and must match; unknown operations never return. */
  readonly known: boolean
  /** Order of the call and (if known) the return: time first, then recording order. */
  readonly callTime: number
  readonly callSeq: number
  readonly returnTime: number
  readonly returnSeq: number
}

/** What the search found: verdict, model steps spent, and for a watched op the deepest state where it blocked. */
export interface SearchOutcome<S> {
  readonly verdict: 'linearizable' | 'not-linearizable' | 'unknown'
  readonly steps: number
  /** When `watch` blocked the search: the longest order of operations linearized before it, and the state after them. */
  readonly blocked: { readonly order: readonly number[]; readonly state: S } | undefined
}

/**
 * Wing & Gong's search with Lowe's memoization (as in Porcupine): walks calls in real-time
 * order, linearizes a call when the model agrees, backtracks at a return that was not
 * linearized, and skips any (linearized set, state) configuration seen before.
 */
export function searchLinearization<S, I extends Call, O>(
  ops: readonly SearchOp<I>[],
  model: Model<S, I, O>,
  stepsMax: number,
  watch = -1,
): SearchOutcome<S> {
  const list = EventList.of(ops)
  const seen = new SeenConfigs(ops.length)
  const stack: { op: number; state: S }[] = []
  let blocked: { order: number[]; state: S } | undefined
  let state = model.init()
  let entry = list.first()
  let steps = 0
  const done = (verdict: SearchOutcome<S>['verdict']): SearchOutcome<S> => ({ verdict, steps, blocked })
  while (entry !== -1) {
    if (++steps > stepsMax) return done('unknown')
    const i = list.opOf(entry)
    const op = ops[i]!
    if (list.isCall(entry)) {
      const next = model.step(state, op.input)
      if (next.ok && (!op.known || model.matches(next.output, op.op.output))) {
        seen.toggle(i)
        if (seen.add(model.key(next.state))) {
          stack.push({ op: i, state })
          state = next.state
          list.lift(i)
          entry = list.first()
          continue
        }
        seen.toggle(i)
      }
      entry = list.next(entry)
      continue
    }
    // A return: unknown operations return at +infinity, after every known one, so all known ops are linearized.
    if (!op.known) return done('linearizable')
    if (i === watch && (blocked === undefined || stack.length > blocked.order.length)) {
      blocked = { order: stack.map((s) => s.op), state }
    }
    const top = stack.pop()
    if (top === undefined) return done('not-linearizable')
    state = top.state
    seen.toggle(top.op)
    list.unlift(top.op)
    entry = list.next(list.callOf(top.op))
  }
  return done('linearizable')
}

/**
 * The configurations seen so far: the current linearized set (a bitset with an incremental
 * 64-bit Zobrist hash) plus a model state key. Hash hits are confirmed by comparing bitsets.
 */
class SeenConfigs {
  private readonly bits: Uint32Array
  private hashLo = 0
  private hashHi = 0
  private readonly seen = new Map<string, Uint32Array[]>()
  constructor(ops: number) {
    this.bits = new Uint32Array(Math.max(1, Math.ceil(ops / 32)))
  }
  /** Adds or removes an operation from the current linearized set. */
  toggle(op: number): void {
    this.bits[op >>> 5] ^= 1 << (op & 31)
    this.hashLo ^= mix(op * 2 + 1)
    this.hashHi ^= mix(op * 2 + 2)
  }
  /** Records (current set, state); false if it was seen before. */
  add(stateKey: string): boolean {
    const key = `${this.hashLo}:${this.hashHi}|${stateKey}`
    const sets = this.seen.get(key)
    if (sets === undefined) {
      this.seen.set(key, [this.bits.slice()])
      return true
    }
    if (sets.some((set) => sameBits(set, this.bits))) return false
    sets.push(this.bits.slice())
    return true
  }
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** A fixed 32-bit integer hash (Wang/Jenkins style mixing) used as Zobrist keys. */
function mix(x: number): number {
  let h = Math.imul(x ^ (x >>> 16), 0x7feb352d)
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b)
  return (h ^ (h >>> 16)) | 0
}

/** A doubly linked list of call and return events in real-time order, with O(1) lift and unlift. */
class EventList {
  private readonly head: number
  private constructor(
    private readonly nextOf: Int32Array,
    private readonly prevOf: Int32Array,
    private readonly ops: Int32Array,
    private readonly calls: Int32Array,
    private readonly returns: Int32Array,
  ) {
    this.head = ops.length
  }

  static of<I>(ops: readonly SearchOp<I>[]): EventList {
    const events: { op: number; call: boolean; time: number; seq: number }[] = []
    ops.forEach((o, op) => {
      events.push({ op, call: true, time: o.callTime, seq: o.callSeq })
      const time = o.known ? o.returnTime : Infinity
      const seq = o.known ? o.returnSeq : Infinity
      events.push({ op, call: false, time, seq })
    })
    events.sort((a, b) => compare(a.time, b.time) || compare(a.seq, b.seq) || a.op - b.op)
    const n = events.length
    const nextOf = new Int32Array(n + 1)
    const prevOf = new Int32Array(n + 1)
    const opOf = new Int32Array(n)
    const calls = new Int32Array(ops.length)
    const returns = new Int32Array(ops.length)
    events.forEach((e, pos) => {
      opOf[pos] = e.op
      if (e.call) calls[e.op] = pos
      else returns[e.op] = pos
      nextOf[pos] = pos + 1 < n ? pos + 1 : -1
      prevOf[pos] = pos === 0 ? n : pos - 1
    })
    nextOf[n] = n > 0 ? 0 : -1
    return new EventList(nextOf, prevOf, opOf, calls, returns)
  }

  first(): number {
    return this.nextOf[this.head]!
  }
  next(entry: number): number {
    return this.nextOf[entry]!
  }
  opOf(entry: number): number {
    return this.ops[entry]!
  }
  isCall(entry: number): boolean {
    return this.calls[this.ops[entry]!] === entry
  }
  callOf(op: number): number {
    return this.calls[op]!
  }
  /** Removes an operation's call and return from the list. */
  lift(op: number): void {
    this.remove(this.calls[op]!)
    this.remove(this.returns[op]!)
  }
  /** Undoes the most recent `lift` not yet undone (must be called in LIFO order). */
  unlift(op: number): void {
    this.reinsert(this.returns[op]!)
    this.reinsert(this.calls[op]!)
  }
  private remove(x: number): void {
    const prev = this.prevOf[x]!
    const next = this.nextOf[x]!
    this.nextOf[prev] = next
    if (next !== -1) this.prevOf[next] = prev
  }
  private reinsert(x: number): void {
    const prev = this.prevOf[x]!
    const next = this.nextOf[x]!
    this.nextOf[prev] = x
    if (next !== -1) this.prevOf[next] = x
  }
}

function compare(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1
}
