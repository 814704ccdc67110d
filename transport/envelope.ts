import { isErrorKind, TroupeError, type SerializedError } from '../runtime/errors.ts'
import { parseView, type View } from '../runtime/view.ts'
import type { JournalRecord } from '../runtime/journal/storage.ts'
import type { ShippedSnapshot } from '../runtime/durability/replica-store.ts'
import { reminderEveryMsMin, reminderNameLengthMax, reminderRoot } from '../runtime/durability/reminders.ts'
import { consistencyLevels, type Consistency } from '../runtime/durability/consistency.ts'

/**
 * The wire protocol: a versioned union of envelopes keyed on `t`, decoded and validated at
 * the edge with `decode(unknown)`. Types only and one decoder; the logic lives elsewhere.
 */
export const wireVersion = 1

/** A call to an actor: `key` is `Type/id`. */
export interface CallEnvelope {
  v: 1
  t: 'call'
  /** Unique per logical call; a retry reuses it. */
  id: string
  /** The sender's view epoch. */
  epoch: number
  key: string
  method: string
  args: unknown[]
  /** Keys of the actors whose turns are waiting on this call, outermost first (deadlock detection). */
  chain?: string[]
  /** A read-only call the caller lets a backup answer from its warm replica (possibly stale). */
  stale?: boolean
  /** This call's output gate, instead of its actor type's consistency level. */
  consistency?: Consistency
}

/** The outcome of a call. */
export type ReplyEnvelope =
  | { v: 1; t: 'reply'; id: string; ok: true; value: unknown }
  | { v: 1; t: 'reply'; id: string; ok: false; error: SerializedError }

/** The receiver does not own the key in its view: retry with this view. */
export interface RedirectEnvelope {
  v: 1
  t: 'redirect'
  id: string
  view: View
}

/** A primary ships journal records (and, to a backup that must catch up, a snapshot) of one actor. */
export interface ReplicateEnvelope {
  v: 1
  t: 'replicate'
  id: string
  /** The primary's view epoch (fencing). */
  epoch: number
  key: string
  records: JournalRecord[]
  /**
   * The epoch of the primary's record just before `records[0]` (0: none before it). A backup
   * whose copy ends at that seq in another epoch holds another history's tail, and must not
   * append to it (Raft's prevLogTerm check): it asks for the whole actor instead.
   */
  after?: number
  snapshot?: ShippedSnapshot
}

/** A backup's answer: it holds every record of `key` up to `seq` durably (`ok`), needs a snapshot (`resync`), or fenced the primary off (`stale`). */
export interface ReplicatedEnvelope {
  v: 1
  t: 'replicated'
  id: string
  key: string
  seq: number
  status: 'ok' | 'resync' | 'stale'
}

/** A new primary asks another owner how far its copy of `key` goes (recovery before the first turn). */
export interface FetchEnvelope {
  v: 1
  t: 'fetch'
  id: string
  /** The asking primary's view epoch (fencing). */
  epoch: number
  /** The asking primary's view: an owner that is behind adopts it before answering, so it fences the old primary off. */
  view: View
  key: string
  /** The asker's own position: the epoch of its last record, and its seq. */
  lastEpoch: number
  seq: number
  /**
   * The asker's whole copy (from its warm replica): an owner that is behind installs it, durably,
   * before answering, so a takeover's recovery read also brings a new backup up to date.
   */
  snapshot?: ShippedSnapshot
}

/**
 * The answer to a fetch: this owner's position, and its whole copy when it is ahead of the asker;
 * `stale` when the asker is fenced off; `unsynced` like `ok`, but this owner's copy has records it
 * has not made durable yet (a passivating activation's tail), so it does not count as holding them.
 */
export interface FetchedEnvelope {
  v: 1
  t: 'fetched'
  id: string
  key: string
  lastEpoch: number
  seq: number
  status: 'ok' | 'unsynced' | 'stale'
  snapshot?: ShippedSnapshot
  /** With `stale`: the answering owner's newer view, for the asker to adopt. */
  view?: View
}

/**
 * A host that came back without its disk into a view that still lists it (it restarted faster
 * than its supervisor noticed): its peers restore the replication factor of what it held.
 */
export interface RejoinedEnvelope {
  v: 1
  t: 'rejoined'
  id: string
  /** The view epoch the host restarted into. */
  epoch: number
}

export type Envelope = CallEnvelope | ReplyEnvelope | RedirectEnvelope | ReplicateEnvelope | ReplicatedEnvelope | FetchEnvelope | FetchedEnvelope | RejoinedEnvelope

/** Longest actor key or method name accepted on the wire. */
export const nameLengthMax = 1024

/**
 * Longest envelope id accepted on the wire. Longer than a key: the id of a call a turn makes
 * holds the calling actor's key and the turn's request id (up to 256), and grows by a few
 * characters per hop of a call chain (a 1,024-character key's calls were dropped as malformed,
 * and resent for ever).
 */
export const idLengthMax = 4096

/** Validates an untrusted wire value, or throws `MalformedEnvelope` saying what is wrong. */
export function decode(input: unknown): Envelope {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw malformed('an envelope must be an object')
  const e = input as Record<string, unknown>
  if (e.v !== wireVersion) throw malformed(`unsupported envelope version ${describe(e.v)}`)
  if (typeof e.id !== 'string' || e.id.length === 0 || e.id.length > idLengthMax) throw malformed(`envelope.id must be a string of 1 to ${idLengthMax} characters`)
  switch (e.t) {
    case 'call': {
      if (typeof e.epoch !== 'number' || !Number.isSafeInteger(e.epoch) || e.epoch < 0) throw malformed('call.epoch must be a non-negative integer')
      if (!isName(e.key) || e.key.indexOf('/') <= 0 || e.key.indexOf('/') === e.key.length - 1) throw malformed(`call.key must be "Type/id" of at most ${nameLengthMax} characters`)
      if (!isName(e.method)) throw malformed(`call.method must be a string of 1 to ${nameLengthMax} characters`)
      if (!Array.isArray(e.args)) throw malformed('call.args must be an array')
      if (e.chain !== undefined && !(Array.isArray(e.chain) && e.chain.every(isName))) throw malformed('call.chain must be an array of keys')
      if (e.stale !== undefined && typeof e.stale !== 'boolean') throw malformed('call.stale must be a boolean')
      if (e.consistency !== undefined && !(consistencyLevels as readonly unknown[]).includes(e.consistency)) throw malformed(`call.consistency must be one of ${consistencyLevels.join(', ')}`)
      return input as unknown as CallEnvelope
    }
    case 'reply': {
      if (e.ok === true) {
        if (!('value' in e)) throw malformed('reply.value is missing')
        return input as unknown as ReplyEnvelope
      }
      if (e.ok !== false) throw malformed('reply.ok must be a boolean')
      const err = e.error as Record<string, unknown> | null
      if (typeof err !== 'object' || err === null || !isErrorKind(err.kind) || typeof err.message !== 'string') {
        throw malformed('reply.error must be { kind, message }')
      }
      for (const field of ['name', 'stack', 'actor'] as const) {
        if (err[field] !== undefined && typeof err[field] !== 'string') throw malformed(`reply.error.${field} must be a string`)
      }
      if (err.data !== undefined && (typeof err.data !== 'object' || err.data === null || Array.isArray(err.data))) throw malformed('reply.error.data must be an object')
      return input as unknown as ReplyEnvelope
    }
    case 'redirect': {
      checkView(e.view, 'redirect.view')
      return input as unknown as RedirectEnvelope
    }
    case 'replicate': {
      if (!isCount(e.epoch)) throw malformed('replicate.epoch must be a non-negative integer')
      if (!isName(e.key) || e.key.indexOf('/') <= 0) throw malformed('replicate.key must be "Type/id"')
      if (!Array.isArray(e.records) || !e.records.every(isRecord)) throw malformed('replicate.records must be journal records')
      if (e.after !== undefined && !isCount(e.after)) throw malformed('replicate.after must be a non-negative integer')
      if (e.snapshot !== undefined) checkSnapshot(e.snapshot, 'replicate.snapshot')
      return input as unknown as ReplicateEnvelope
    }
    case 'replicated': {
      if (!isName(e.key)) throw malformed('replicated.key must be a non-empty string')
      if (!isCount(e.seq)) throw malformed('replicated.seq must be a non-negative integer')
      if (e.status !== 'ok' && e.status !== 'resync' && e.status !== 'stale') throw malformed('replicated.status must be ok, resync or stale')
      return input as unknown as ReplicatedEnvelope
    }
    case 'fetch': {
      if (!isCount(e.epoch) || !isCount(e.lastEpoch) || !isCount(e.seq)) throw malformed('fetch.epoch, lastEpoch and seq must be non-negative integers')
      if (!isName(e.key) || e.key.indexOf('/') <= 0) throw malformed('fetch.key must be "Type/id"')
      checkView(e.view, 'fetch.view')
      if (e.snapshot !== undefined) checkSnapshot(e.snapshot, 'fetch.snapshot')
      return input as unknown as FetchEnvelope
    }
    case 'fetched': {
      if (!isCount(e.lastEpoch) || !isCount(e.seq)) throw malformed('fetched.lastEpoch and seq must be non-negative integers')
      if (!isName(e.key)) throw malformed('fetched.key must be a non-empty string')
      if (e.status !== 'ok' && e.status !== 'unsynced' && e.status !== 'stale') throw malformed('fetched.status must be ok, unsynced or stale')
      if (e.snapshot !== undefined) checkSnapshot(e.snapshot, 'fetched.snapshot')
      if (e.view !== undefined) checkView(e.view, 'fetched.view')
      return input as unknown as FetchedEnvelope
    }
    case 'rejoined': {
      if (!isCount(e.epoch)) throw malformed('rejoined.epoch must be a non-negative integer')
      return input as unknown as RejoinedEnvelope
    }
    default:
      throw malformed(`unknown envelope type ${describe(e.t)}`)
  }
}

/** Validates a frame (one tick's batch of envelopes for one peer); bad entries are reported, not thrown. */
export function decodeFrame(input: unknown, onMalformed: (error: TroupeError, raw: unknown) => void): Envelope[] {
  if (!Array.isArray(input)) {
    onMalformed(malformed('a frame must be an array of envelopes'), input)
    return []
  }
  const out: Envelope[] = []
  for (const raw of input) {
    try {
      out.push(decode(raw))
    } catch (error) {
      onMalformed(error as TroupeError, raw)
    }
  }
  return out
}

/** Describes an untrusted value for an error message without calling anything on it. */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 64))
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return `${value}`
  return typeof value
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** Throws MalformedEnvelope naming `field` when `value` is not a valid view. */
function checkView(value: unknown, field: string): void {
  try {
    parseView(value)
  } catch (error) {
    throw malformed(`${field}: ${(error as Error).message}`)
  }
}

/**
 * Throws MalformedEnvelope naming `field` when `value` is not a shipped snapshot. Its request and
 * reminder entries are checked one by one: a receiver installs them without looking (a bad
 * request entry corrupts its request table, a bad reminder crashes the activation's timer).
 */
function checkSnapshot(value: unknown, field: string): void {
  const snap = value as Record<string, unknown> | null
  if (typeof snap !== 'object' || snap === null || Array.isArray(snap) || !isCount(snap.seq) || !isCount(snap.epoch)) {
    throw malformed(`${field} must be { seq, epoch, state, requests }`)
  }
  if (!Array.isArray(snap.requests) || !snap.requests.every(isRequestEntry)) throw malformed(`${field}.requests must be [requestId, seq, result] entries`)
  if (snap.reminders !== undefined && !(Array.isArray(snap.reminders) && snap.reminders.every(isReminderEntry))) {
    throw malformed(`${field}.reminders must be [name, { dueAtMs, everyMs? }] entries`)
  }
}

/** `[requestId, seq, result]`, as `RequestTable.toEntries` writes it. */
function isRequestEntry(value: unknown): boolean {
  return Array.isArray(value) && value.length === 3 && typeof value[0] === 'string' && isCount(value[1])
}

/** `[name, spec]`, as a reminder table's entries are. */
function isReminderEntry(value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && value[0].length > 0
    && value[0].length <= reminderNameLengthMax && isReminderSpec(value[1])
}

/** The bounds `parseReminder` puts on a spec: a timer armed with NaN or a zero period would spin. */
function isReminderSpec(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const { dueAtMs, everyMs } = value as Record<string, unknown>
  return typeof dueAtMs === 'number' && Number.isFinite(dueAtMs)
    && (everyMs === undefined || (typeof everyMs === 'number' && Number.isFinite(everyMs) && everyMs >= reminderEveryMsMin))
}

function isRecord(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const r = value as Record<string, unknown>
  return isCount(r.seq) && r.seq > 0 && isCount(r.epoch) && typeof r.requestId === 'string' && Array.isArray(r.patch) && r.patch.every(isPatchOp)
}

/**
 * The shape a backup reads before `applyPatch` checks the rest: `splitPatch` reads every
 * operation's path, and a reminder `set` becomes a live timer spec as it is.
 */
function isPatchOp(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const op = value as Record<string, unknown>
  if (!Array.isArray(op.path)) return false
  return op.path[0] !== reminderRoot || op.op !== 'set' || isReminderSpec(op.value)
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= nameLengthMax
}

function malformed(message: string): TroupeError {
  return new TroupeError('MalformedEnvelope', message)
}
