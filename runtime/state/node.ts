import { readOnlyTarget } from './read-only.ts'
import type { PathKey } from './patch.ts'
import { copyContainer, describeValue, isArrayIndex, kindOf, unjournalable, type ContainerKind, type SetMember } from './values.ts'
import type { TroupeError } from '../errors.ts'

/** One change to a container, relative to its base; commit turns edits into patch operations. */
export type Edit =
  | { type: 'set'; key: SlotKey; value: unknown }
  | { type: 'delete'; key: SlotKey }
  | { type: 'nested'; key: SlotKey; node: DraftNode }
  | { type: 'add' | 'remove'; value: SetMember }
  | { type: 'clear' }
  | { type: 'whole'; value: object }

/** The key under which a draft proxy answers with its node (never visible in state). */
export const NODE: unique symbol = Symbol('troupe.state.node')

/** What every draft of one turn shares: whether the turn still accepts reads and writes. */
export interface TurnScope {
  open: boolean
}

/** A key of a container slot: property name, array index, or Map key. */
export type SlotKey = PathKey

/**
 * The bookkeeping behind one draft proxy. `base` is never mutated; the first write makes
 * `copy`, a shallow copy that is the container's new value if the turn commits. A node's
 * ancestors always have copies when it has one, and an ancestor slot that still held this
 * node's base is pointed at this node's proxy ("linked"), so commit finds every change by
 * walking copies only.
 */
export class DraftNode {
  copy: object | undefined = undefined
  proxy: object
  /** Drafts handed out for the container's slots, by key; the same object read twice gives the same proxy. */
  children: Map<unknown, DraftNode> | undefined = undefined
  /** Object/Map keys and Set members written (or linked) this turn, in first-write order since their last removal. */
  dirty: Set<unknown> | undefined = undefined
  /** Base keys (or Set members) removed this turn; if written again they moved to the end. */
  removed: Set<unknown> | undefined = undefined
  /** Map or Set cleared this turn. */
  cleared = false
  /** Arrays: lowest index (or new length) written this turn. */
  low = Number.POSITIVE_INFINITY
  /** Commit: the final value, once computed. */
  final: object | undefined = undefined
  /** Commit: set while this node is being finalized, to catch cycles. */
  finalizing = false

  /** Commit: this container's changes relative to `base`, once finalized. */
  edits: Edit[] | undefined = undefined

  constructor(
    readonly scope: TurnScope,
    readonly kind: ContainerKind,
    readonly base: object,
    readonly parent: DraftNode | undefined,
    readonly key: SlotKey | undefined,
    /** True when `base` is part of the committed state (so already journalable); false for values new this turn. */
    readonly fromBase: boolean,
    makeProxy: (node: DraftNode) => object,
  ) {
    this.proxy = makeProxy(this)
  }

  /** The container's value as of now: the copy once written, else the base. */
  current(): object {
    return this.copy ?? this.base
  }

  /** The origin path of this node (where it was first read), outermost first. */
  path(): PathKey[] {
    const keys: PathKey[] = []
    for (let n: DraftNode | undefined = this; n?.key !== undefined; n = n.parent) keys.push(n.key)
    return keys.reverse()
  }
}

/** The node behind `value` when it is a draft proxy, else `undefined`. */
export function nodeOf(value: unknown): DraftNode | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  return (value as { [NODE]?: DraftNode })[NODE]
}

/** Throws the TypeError a revoked proxy would when a draft outlives its turn. */
export function assertOpen(node: DraftNode): void {
  if (!node.scope.open) throw new TypeError(`${node.kind} draft at ${JSON.stringify(node.path())} used after its turn ended`)
}

/** The container's copy, made (and linked into the ancestors) on the first write. */
export function ensureCopy(node: DraftNode): object {
  if (node.copy !== undefined) return node.copy
  node.copy = copyContainer(node.base, node.kind)
  let child = node
  for (let parent = node.parent; parent !== undefined; parent = parent.parent) {
    const hadCopy = parent.copy !== undefined
    const copy = hadCopy ? parent.copy! : (parent.copy = copyContainer(parent.base, parent.kind))
    linkChild(parent, copy, child)
    if (hadCopy) break
    child = parent
  }
  return node.copy
}

function linkChild(parent: DraftNode, copy: object, child: DraftNode): void {
  const key = child.key!
  if (parent.kind === 'map') {
    const map = copy as Map<unknown, unknown>
    if (map.get(key) === child.base) {
      map.set(key, child.proxy)
      markDirty(parent, key)
    }
    return
  }
  const record = copy as Record<PathKey, unknown>
  if (record[key] !== child.base) return
  record[key] = child.proxy
  if (parent.kind === 'array') parent.low = Math.min(parent.low, key as number)
  else markDirty(parent, key)
}

/** Records that `key` was written; a removed-then-written key moves to the end, as in the copy. */
export function markDirty(node: DraftNode, key: unknown): void {
  const dirty = node.dirty ?? (node.dirty = new Set())
  dirty.add(key)
}

/** Records that `key` was removed: it leaves the dirty order, and a base key is remembered as removed. */
export function markRemoved(node: DraftNode, key: unknown, inBase: boolean): void {
  node.dirty?.delete(key)
  if (inBase) (node.removed ?? (node.removed = new Set())).add(key)
}

/**
 * Checks a value about to be written at `node`'s `key`: the value itself must be journalable
 * (its insides are checked at commit, since they can still change) and a draft must belong to
 * this turn. Throws `Unjournalable` naming the path.
 */
export function checkWrite(node: DraftNode, key: PathKey, value: unknown): void {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'function' || typeof value === 'symbol') throw writeError(node, key, describeValue(value))
    return
  }
  const draft = nodeOf(value)
  if (draft !== undefined) {
    if (draft.scope !== node.scope) throw writeError(node, key, 'a state proxy from another turn')
    return
  }
  // A read-only view kept from a read turn (a reference to this.state held between turns).
  if (readOnlyTarget(value) !== undefined) throw writeError(node, key, 'a read-only view of the state from a read turn')
  if (kindOf(value) === undefined) throw writeError(node, key, describeValue(value))
}

/** The `Unjournalable` error for a write of `what` at `node`'s `key`. */
export function writeError(node: DraftNode, key: PathKey | undefined, what: string): TroupeError {
  const path = node.path()
  if (key !== undefined) path.push(key)
  return unjournalable(path, what)
}

/** Checks a property key written on an object draft: no symbols, no `__proto__`. */
export function checkObjectKey(node: DraftNode, key: string | symbol): asserts key is string {
  if (typeof key === 'symbol') throw writeError(node, undefined, `given a symbol key ${String(key)}`)
  if (key === '__proto__') throw writeError(node, key, 'the key "__proto__"')
}

/** Checks a property key written on an array draft: only indices and `length`. */
export function checkArrayKey(node: DraftNode, key: string | symbol): asserts key is string {
  if (typeof key === 'symbol' || (key !== 'length' && !isArrayIndex(key))) {
    throw writeError(node, undefined, `given a non-index property ${String(key)} (arrays hold only elements)`)
  }
}
