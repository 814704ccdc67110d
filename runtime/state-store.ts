/**
 * Where a passivated actor's state waits for its next activation. This is the seam where the
 * journal plugs in; for now a host keeps states in memory.
 */
export interface StateStore {
  load(key: string): unknown | Promise<unknown>
  save(key: string, state: unknown): void | Promise<void>
}

/** Keeps states in a Map, cloned on the way in and out so no reference is shared with a turn. */
export class MemoryStateStore implements StateStore {
  private readonly states = new Map<string, unknown>()

  load(key: string): unknown {
    return this.states.has(key) ? structuredClone(this.states.get(key)) : undefined
  }

  save(key: string, state: unknown): void {
    this.states.set(key, structuredClone(state))
  }

  get size(): number {
    return this.states.size
  }
}
