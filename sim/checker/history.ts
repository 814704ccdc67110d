import { assert } from './assert.ts'

/** How an operation ended: `ok` took effect with a known output, `fail` definitely did not, `info` is unknown. */
export type OpStatus = 'ok' | 'fail' | 'info'

/** Identifies a client (a sequential caller) or a host. */
export type Id = string | number

/**
 * One operation of a history, immutable. Times come from the simulated clock; `invokeSeq` and
 * `completeSeq` are positions in the recording order and break ties between equal times.
 * An `info` operation never returns: its `completeTime` and `completeSeq` are `Infinity`.
 */
export interface Operation {
  readonly id: number
  readonly client: Id
  readonly key: string
  readonly name: string
  readonly input: unknown
  readonly status: OpStatus
  /** The output of an `ok` operation; `undefined` otherwise. */
  readonly output: unknown
  /** Why a `fail` operation failed; `undefined` otherwise. */
  readonly error: string | undefined
  readonly requestId: string
  readonly invokeTime: number
  readonly invokeSeq: number
  readonly completeTime: number
  readonly completeSeq: number
  /** When the client gave up on an `info` operation; `undefined` if it was still pending when the history was taken. */
  readonly infoTime: number | undefined
}

/** What a client invokes: who calls which actor, how, and with which request id. */
export interface Invocation {
  readonly client: Id
  readonly key: string
  readonly name: string
  readonly input: unknown
  readonly requestId: string
}

interface Pending {
  readonly invocation: Invocation
  readonly id: number
  readonly invokeTime: number
  readonly invokeSeq: number
}

/**
 * Records operations as the simulation runs: `invoke` then exactly one of `ok`, `fail`, `info`.
 * Operations still pending when `history()` is called count as `info`.
 */
export class HistoryRecorder {
  private readonly pending = new Map<number, Pending>()
  private readonly done = new Map<number, Operation>()
  private nextId = 0
  private nextSeq = 0

  /** Records an invocation at `time` and returns its operation id. */
  invoke(invocation: Invocation, time: number): number {
    assertTime(time)
    const id = this.nextId++
    this.pending.set(id, { invocation: { ...invocation }, id, invokeTime: time, invokeSeq: this.nextSeq++ })
    return id
  }

  /** Records that operation `opId` took effect and returned `output` at `time`. */
  ok(opId: number, output: unknown, time: number): void {
    this.complete(opId, time, 'ok', output, undefined)
  }

  /** Records that operation `opId` definitely did not take effect. */
  fail(opId: number, error: string, time: number): void {
    this.complete(opId, time, 'fail', undefined, error)
  }

  /** Records that the client gave up on operation `opId` at `time`: it may take effect at any time after its invoke. */
  info(opId: number, time: number): void {
    this.complete(opId, time, 'info', undefined, undefined)
  }

  /** The recorded operations in invoke order; pending ones as `info`. */
  history(): readonly Operation[] {
    const ops: Operation[] = []
    for (let id = 0; id < this.nextId; id++) {
      const done = this.done.get(id)
      if (done !== undefined) {
        ops.push(done)
        continue
      }
      const pending = this.pending.get(id)
      assert(pending !== undefined, `operation ${id} is neither pending nor done`)
      ops.push(infoOp(base(pending), undefined))
    }
    return Object.freeze(ops)
  }

  private complete(opId: number, time: number, status: OpStatus, output: unknown, error: string | undefined): void {
    assertTime(time)
    const p = this.pending.get(opId)
    assert(p !== undefined, `operation ${opId} is not pending (unknown id or already completed)`)
    assert(time >= p.invokeTime, `operation ${opId} completes at ${time}, before its invoke at ${p.invokeTime}`)
    this.pending.delete(opId)
    const seq = this.nextSeq++
    const op: Operation =
      status === 'info'
        ? infoOp(base(p), time)
        : Object.freeze({
            ...base(p),
            status,
            output,
            error,
            completeTime: time,
            completeSeq: seq,
            infoTime: undefined,
          })
    this.done.set(opId, op)
  }
}

type Base = Pick<Operation, 'id' | 'client' | 'key' | 'name' | 'input' | 'requestId' | 'invokeTime' | 'invokeSeq'>

function base(p: Pending): Base {
  const { client, key, name, input, requestId } = p.invocation
  return { id: p.id, client, key, name, input, requestId, invokeTime: p.invokeTime, invokeSeq: p.invokeSeq }
}

function infoOp(b: Base, infoTime: number | undefined): Operation {
  return Object.freeze({
    ...b,
    status: 'info',
    output: undefined,
    error: undefined,
    completeTime: Infinity,
    completeSeq: Infinity,
    infoTime,
  })
}

function assertTime(time: number): void {
  assert(Number.isSafeInteger(time) && time >= 0, `time must be a non-negative integer, got ${time}`)
}

/** True when `a` completed before `b` was invoked (real-time order; ties broken by recording order). */
export function precedes(a: Operation, b: Operation): boolean {
  if (a.completeTime !== b.invokeTime) return a.completeTime < b.invokeTime
  return a.completeSeq < b.invokeSeq
}

/** Splits a history by actor key, keeping each key's operations in order. */
export function partitionByKey(history: readonly Operation[]): Map<string, Operation[]> {
  const byKey = new Map<string, Operation[]>()
  for (const op of history) {
    const list = byKey.get(op.key)
    if (list === undefined) byKey.set(op.key, [op])
    else list.push(op)
  }
  return byKey
}

/** Renders a value compactly and deterministically for messages and memo keys. */
export function formatValue(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  if (value === null || typeof value === 'boolean') return String(value)
  if (value === undefined) return 'undefined'
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  if (Array.isArray(value)) return `[${value.map(formatValue).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${formatValue((value as Record<string, unknown>)[k])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value) ?? String(value)
}

/** A one-line description of an operation, e.g. `#3 c2 Counter/a increment(1) → 4 [t=5..7]`. */
export function describeOp(op: Operation): string {
  const input = op.input === undefined ? '' : formatValue(op.input)
  const result =
    op.status === 'ok' ? `→ ${formatValue(op.output)}` : op.status === 'fail' ? `failed (${op.error ?? ''})` : '→ ? (unknown)'
  const end = op.status === 'info' ? '∞' : String(op.completeTime)
  return `#${op.id} client ${op.client} ${op.key} ${op.name}(${input}) ${result} [t=${op.invokeTime}..${end}]`
}
