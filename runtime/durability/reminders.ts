import type { PatchOp } from '../state/index.ts'
import { TroupeError } from '../errors.ts'

/**
 * Durable reminders: a reminder is journaled and replicated with its actor (as patch operations
 * under a reserved root, kept apart from the state), so it fires after a failover or a restart.
 * Times are wall-clock milliseconds, since they outlive any one process's monotonic clock.
 */
export interface ReminderSpec {
  /** When it fires next (wall-clock ms since the epoch). */
  dueAtMs: number
  /** Fires again this often; absent: once. */
  everyMs?: number
}

/** The reminders of one actor, by name. */
export type ReminderTable = Map<string, ReminderSpec>

/** The wire and snapshot form of a reminder table. */
export type ReminderEntries = Array<[string, ReminderSpec]>

/** The root under which patches carry reminder changes (never part of the user's state). */
export const reminderRoot = '~reminders'

/** Shortest period and longest name a reminder accepts. */
export const reminderEveryMsMin = 1
export const reminderNameLengthMax = 256

/** Splits a record's patch into the state's operations and the reminder changes. */
export function splitPatch(patch: readonly PatchOp[]): { state: PatchOp[]; reminders: PatchOp[] } {
  let reminders: PatchOp[] | undefined
  for (const op of patch) if (op.path[0] === reminderRoot) (reminders ??= []).push(op)
  if (!reminders) return { state: patch as PatchOp[], reminders: [] }
  return { state: patch.filter((op) => op.path[0] !== reminderRoot), reminders }
}

/** Applies reminder changes (`set` or `delete` of `[reminderRoot, name]`) to a table. */
export function applyReminderOps(table: ReminderTable, ops: readonly PatchOp[]): void {
  for (const op of ops) {
    const name = op.path[1]
    if (typeof name !== 'string') throw new TroupeError('CorruptRecord', 'a reminder operation names no reminder')
    if (op.op === 'set') table.set(name, op.value as ReminderSpec)
    else if (op.op === 'delete') table.delete(name)
    else throw new TroupeError('CorruptRecord', `a reminder operation cannot be ${op.op}`)
  }
}

/** The operation that records `spec` (or, undefined, the removal) of reminder `name`. */
export function reminderOp(name: string, spec: ReminderSpec | undefined): PatchOp {
  return spec ? { op: 'set', path: [reminderRoot, name], value: spec } : { op: 'delete', path: [reminderRoot, name] }
}

/** Validates a reminder request from user code, or throws `InvalidArgument`. */
export function parseReminder(name: unknown, options: unknown, nowMs: number): ReminderSpec {
  if (typeof name !== 'string' || name.length === 0 || name.length > reminderNameLengthMax) {
    throw new TroupeError('InvalidArgument', `a reminder name must be a string of 1 to ${reminderNameLengthMax} characters`)
  }
  const { at, everyMs } = (options ?? {}) as { at?: unknown; everyMs?: unknown }
  if (everyMs !== undefined && (typeof everyMs !== 'number' || !Number.isFinite(everyMs) || everyMs < reminderEveryMsMin)) {
    throw new TroupeError('InvalidArgument', `reminder ${name}: everyMs must be a number >= ${reminderEveryMsMin}`)
  }
  let dueAtMs: number
  if (at === undefined) {
    if (everyMs === undefined) throw new TroupeError('InvalidArgument', `reminder ${name} needs at or everyMs`)
    dueAtMs = nowMs + (everyMs as number)
  } else if (at instanceof Date || typeof at === 'number') {
    dueAtMs = at instanceof Date ? at.getTime() : at
    if (!Number.isFinite(dueAtMs)) throw new TroupeError('InvalidArgument', `reminder ${name}: at must be a valid time`)
  } else {
    throw new TroupeError('InvalidArgument', `reminder ${name}: at must be a Date or a number of ms since the epoch`)
  }
  return everyMs === undefined ? { dueAtMs } : { dueAtMs, everyMs: everyMs as number }
}
