import { DraftNode, nodeOf, type Edit, type SlotKey, type TurnScope } from './node.ts'
import { readOnlyTarget } from './read-only.ts'
import type { PatchOp, PathKey } from './patch.ts'
import { describeValue, isMapKey, isSetMember, kindOf, PathFault, type SetMember } from './values.ts'

type Rec = Record<PropertyKey, unknown>
type AnyMap = Map<unknown, unknown>
type AnySet = Set<unknown>

/** Marks a slot that the base does not have (distinct from a slot holding `undefined`). */
const ABSENT: unique symbol = Symbol('absent')

/** Arrays with more edits than this, and more than half their length, are journaled whole. */
const arrayEditsWholeMin = 16

/** Unwinds a fault through one level of the walk, adding that level's key to its path. */
function through(error: unknown, key: PathKey | undefined): never {
  if (error instanceof PathFault && key !== undefined) error.keysInnermostFirst.push(key)
  throw error
}

/**
 * Commit, step one: turns every written draft into its final container (drafts inside replaced
 * by final values, new values checked for journalability) and records each node's edits.
 * A draft reached twice finalizes once, so two slots holding it end up holding one object.
 */
export class Finalizer {
  /** New (not base) containers walked: null while inside (a cycle), then their copy. */
  private seen: Map<object, object | null> | undefined = undefined
  /** Set by `slot`: the draft read from this very slot of the base, when the slot still holds it. */
  private inPlace: DraftNode | undefined = undefined

  constructor(private readonly scope: TurnScope) {}

  /** The final value of a draft. */
  node(node: DraftNode): object {
    if (node.final !== undefined) return node.final
    if (node.finalizing) throw new PathFault('part of a cycle (a container inside itself)')
    node.finalizing = true
    if (node.copy === undefined) node.final = node.base
    else {
      const edits: Edit[] = []
      switch (node.kind) {
        case 'object': this.object(node, edits); break
        case 'array': this.array(node, edits); break
        case 'map': this.map(node, edits); break
        case 'set': this.set(node, edits); break
        case 'date': if (!Object.is((node.copy as Date).getTime(), (node.base as Date).getTime())) edits.push({ type: 'whole', value: node.copy }); break
        // A copy again: the turn may hold its copy (what `fill`, `sort` or `subarray` returned).
        case 'typed': if (!sameElements(node.copy as Uint8Array, node.base as Uint8Array)) edits.push({ type: 'whole', value: (node.copy as Uint8Array).slice() }); break
      }
      node.edits = edits
      node.final = edits.length === 0 ? node.base : node.kind === 'typed' ? (edits[0] as { value: object }).value : node.copy
    }
    if (!node.fromBase) node.final = this.contents(node.final, node.kind)
    node.finalizing = false
    return node.final
  }

  /** The final value of something new written this turn (drafts inside replaced, everything checked). */
  fresh(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) {
      if (typeof value === 'function' || typeof value === 'symbol') throw new PathFault(describeValue(value))
      return value
    }
    const draft = nodeOf(value)
    if (draft !== undefined) {
      if (draft.scope !== this.scope) throw new PathFault('a state proxy from another turn')
      return this.node(draft)
    }
    // A read-only view kept from a read turn, put inside a new value (checkWrite sees only the value written).
    if (readOnlyTarget(value) !== undefined) throw new PathFault('a read-only view of the state from a read turn')
    const kind = kindOf(value)
    if (kind === undefined) throw new PathFault(describeValue(value))
    if (kind === 'primitive') return value
    return this.contents(value, kind)
  }

  /**
   * A checked copy of a new container, drafts inside replaced by their final values: committed
   * state shares nothing with what the turn's code can still reach (a value it kept, a timer),
   * so a later change there can never reach the state without a journal record, and the
   * primary holds exactly what its journal and its backups hold. A container reached twice
   * gets one copy, as the journal's encoding keeps it.
   */
  private contents(value: object, kind: string): object {
    const seen = this.seen ?? (this.seen = new Map())
    const known = seen.get(value)
    if (known === null) throw new PathFault('part of a cycle (a container inside itself)')
    if (known !== undefined) return known
    seen.set(value, null)
    let copy: object
    switch (kind) {
      case 'object': copy = this.freshObject(value as Rec); break
      case 'array': copy = this.freshArray(value as unknown[]); break
      case 'map': copy = this.freshMap(value as AnyMap); break
      case 'set': copy = freshSet(value as AnySet); break
      case 'date': copy = new Date(ownless(value as Date, 'a Date').getTime()); break
      default: copy = freshTyped(value as Uint8Array)
    }
    seen.set(value, copy)
    // A copy this commit made is final: an enclosing new draft that holds it does not copy it again.
    seen.set(copy, copy)
    return copy
  }

  private freshObject(record: Rec): Rec {
    if (Object.getOwnPropertySymbols(record).length > 0) throw new PathFault('an object with symbol keys')
    const keys = Object.keys(record)
    // What a copy (or the journal's encoding) would drop: a getter (read once, then never again),
    // a property that is not enumerable.
    if (Object.getOwnPropertyNames(record).length !== keys.length) throw new PathFault('an object with properties that are not enumerable')
    const out: Rec = {}
    let key: string | undefined
    try {
      for (key of keys) {
        if (key === '__proto__') throw new PathFault('the key "__proto__"')
        const described = Object.getOwnPropertyDescriptor(record, key)!
        if (!('value' in described)) throw new PathFault('an accessor property (a getter or setter)')
        const value: unknown = described.value
        out[key] = typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol' ? value : this.fresh(value)
      }
    } catch (error) { through(error, key) }
    return out
  }

  private freshArray(array: unknown[]): unknown[] {
    const out = new Array<unknown>(array.length)
    let index: number | undefined
    let present = 0
    try {
      for (index = 0; index < array.length; index++) {
        if (!(index in array)) continue
        present++
        const value = array[index]
        out[index] = typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol' ? value : this.fresh(value)
      }
    } catch (error) { through(error, index) }
    if (Reflect.ownKeys(array).length !== present + 1) throw new PathFault('an array with non-index properties')
    return out
  }

  private freshMap(map: AnyMap): AnyMap {
    ownless(map, 'a Map')
    const out: AnyMap = new Map()
    let key: PathKey | undefined
    try {
      for (const [k, value] of map) {
        if (!isMapKey(k)) throw new PathFault(`a Map with a key that is ${describeValue(k)} (Map keys must be strings or numbers)`)
        key = k
        out.set(k, this.fresh(value))
      }
    } catch (error) { through(error, key) }
    return out
  }

  /** The final value of the slot `key` of `node`, whose base held `base`; sets `inPlace`. */
  private slot(node: DraftNode, key: SlotKey, value: unknown, base: unknown): unknown {
    const child = nodeOf(value)
    // Set after the walk below, which finalizes other slots (drafts inside a new value) and sets it for them.
    let final: unknown
    if (child === undefined) final = value === base ? value : this.fresh(value)
    else if (child.scope !== this.scope) throw new PathFault('a state proxy from another turn')
    else final = this.node(child)
    this.inPlace = child !== undefined && child.parent === node && child.key === key && child.base === base ? child : undefined
    return final
  }

  /** Adds the edit for one slot: nothing, a nested edit (a draft changed in place), or a set. */
  private edit(edits: Edit[], key: SlotKey, final: unknown, base: unknown, moved: boolean): void {
    if (this.inPlace !== undefined && !moved) {
      if (final !== base) edits.push({ type: 'nested', key, node: this.inPlace })
      return
    }
    if (moved || base === ABSENT || !Object.is(final, base)) edits.push({ type: 'set', key, value: final })
  }

  private object(node: DraftNode, edits: Edit[]): void {
    const base = node.base as Rec
    const copy = node.copy as Rec
    const moved = this.deletes(node, edits, (key) => Object.hasOwn(copy, key as string))
    if (node.dirty === undefined) return
    let key: string | undefined
    try {
      for (key of node.dirty as Set<string>) {
        if (!Object.hasOwn(copy, key)) continue
        const isMoved = moved?.has(key) === true
        const old = !isMoved && Object.hasOwn(base, key) ? base[key] : ABSENT
        const value = copy[key]
        const final = this.slot(node, key, value, old)
        if (final !== value) copy[key] = final
        this.edit(edits, key, final, old, isMoved)
      }
    } catch (error) { through(error, key) }
  }

  private map(node: DraftNode, edits: Edit[]): void {
    const base = node.base as AnyMap
    const copy = node.copy as AnyMap
    let key: PathKey | undefined
    try {
      if (node.cleared) {
        edits.push({ type: 'clear' })
        for (const [k, value] of copy) {
          key = k as PathKey
          const final = this.slot(node, key, value, ABSENT)
          if (final !== value) copy.set(k, final)
          edits.push({ type: 'set', key, value: final })
        }
        return
      }
      const moved = this.deletes(node, edits, (k) => copy.has(k))
      if (node.dirty === undefined) return
      for (const k of node.dirty as Set<PathKey>) {
        if (!copy.has(k)) continue
        key = k
        const isMoved = moved?.has(k) === true
        const old = !isMoved && base.has(k) ? base.get(k) : ABSENT
        const value = copy.get(k)
        const final = this.slot(node, k, value, old)
        if (final !== value) copy.set(k, final)
        this.edit(edits, k, final, old, isMoved)
      }
    } catch (error) { through(error, key) }
  }

  /** Deletes for removed base keys; returns those written again, which must move to the end. */
  private deletes(node: DraftNode, edits: Edit[], present: (key: unknown) => boolean): Set<unknown> | undefined {
    if (node.removed === undefined) return undefined
    let moved: Set<unknown> | undefined
    for (const key of node.removed) {
      edits.push({ type: 'delete', key: key as SlotKey })
      if (present(key)) (moved ?? (moved = new Set())).add(key)
    }
    return moved
  }

  private set(node: DraftNode, edits: Edit[]): void {
    const base = node.base as AnySet
    const copy = node.copy as AnySet
    if (node.cleared) {
      edits.push({ type: 'clear' })
      for (const member of copy) edits.push({ type: 'add', value: member as SetMember })
      return
    }
    let moved: Set<unknown> | undefined
    for (const member of node.removed ?? []) {
      edits.push({ type: 'remove', value: member as SetMember })
      if (copy.has(member)) (moved ?? (moved = new Set())).add(member)
    }
    for (const member of node.dirty ?? []) {
      if (copy.has(member) && (!base.has(member) || moved?.has(member) === true)) edits.push({ type: 'add', value: member as SetMember })
    }
  }

  private array(node: DraftNode, edits: Edit[]): void {
    const base = node.base as unknown[]
    const copy = node.copy as unknown[]
    const length = copy.length
    const baseLength = base.length
    if (length < baseLength) edits.push({ type: 'set', key: 'length', value: length })
    let index: number | undefined
    try {
      for (index = Math.min(node.low, length); index < length; index++) {
        const inBase = index < baseLength && index in base
        if (!(index in copy)) {
          if (inBase) edits.push({ type: 'delete', key: index })
          continue
        }
        const old = inBase ? base[index] : ABSENT
        const value = copy[index]
        const final = this.slot(node, index, value, old)
        if (final !== value) copy[index] = final
        this.edit(edits, index, final, old, false)
      }
    } catch (error) { through(error, index) }
    if (length > baseLength && !(length - 1 in copy)) edits.push({ type: 'set', key: 'length', value: length })
    if (edits.length > arrayEditsWholeMin && edits.length > length / 2) edits.splice(0, edits.length, { type: 'whole', value: copy })
  }
}

function freshSet(set: AnySet): AnySet {
  ownless(set, 'a Set')
  for (const member of set) {
    if (!isSetMember(member)) throw new PathFault(`a Set holding ${describeValue(member)} (Set members must be primitives)`)
  }
  return new Set(set)
}

function freshTyped(array: Uint8Array): Uint8Array {
  // A shared buffer changes under the state from other threads, and cannot be journaled.
  if (typeof SharedArrayBuffer === 'function' && array.buffer instanceof SharedArrayBuffer) throw new PathFault('a typed array on a SharedArrayBuffer')
  // Not checked for properties of its own: listing a typed array's keys lists every element.
  return array.slice()
}

/** `value`, when it holds no properties of its own, which no copy would keep. */
function ownless<T extends object>(value: T, noun: string): T {
  if (Reflect.ownKeys(value).length !== 0) throw new PathFault(`${noun} with properties of its own`)
  return value
}

function sameElements(a: ArrayLike<unknown>, b: ArrayLike<unknown>): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false
  return true
}

/** Commit, step two: the patch operations for a finalized node's edits, at `path`. */
export function emitOps(node: DraftNode, path: PathKey[], ops: PatchOp[]): void {
  for (const edit of node.edits ?? []) {
    switch (edit.type) {
      case 'set': ops.push({ op: 'set', path: [...path, edit.key], value: edit.value }); break
      case 'delete': ops.push({ op: 'delete', path: [...path, edit.key] }); break
      case 'nested': emitOps(edit.node, [...path, edit.key], ops); break
      case 'add': case 'remove': ops.push({ op: edit.type, path: path.slice(), value: edit.value }); break
      case 'clear': ops.push({ op: 'clear', path: path.slice() }); break
      case 'whole': ops.push({ op: 'set', path: path.slice(), value: edit.value }); break
    }
  }
}
