import { createHash, type Hash } from 'node:crypto'

/**
 * The event trace of one run: one line per event (`t=<ms> <what>`), hashed as it grows so two
 * runs compare by one digest. Lines are kept only when asked (`--trace`, or a test reading them),
 * so a long sweep of seeds stays small.
 */
export class Trace {
  private readonly hash: Hash = createHash('sha256')
  private readonly kept: string[] | undefined
  private count = 0
  private digestValue: string | undefined
  private readonly now: () => number

  /** `now` stamps each line; `keep` keeps the lines for `lines()`. */
  constructor(now: () => number, keep = false) {
    this.now = now
    this.kept = keep ? [] : undefined
  }

  /** Appends one event. */
  add(what: string): void {
    if (this.digestValue !== undefined) return // sealed: the run is over
    const line = `t=${this.now()} ${what}`
    this.hash.update(line)
    this.hash.update('\n')
    this.count++
    this.kept?.push(line)
  }

  /** Lines so far (empty unless the trace keeps them). */
  lines(): readonly string[] {
    return this.kept ?? []
  }

  /** How many events were traced. */
  get length(): number {
    return this.count
  }

  /** The sha256 of every line in order; seals the trace. */
  digest(): string {
    this.digestValue ??= this.hash.digest('hex')
    return this.digestValue
  }
}
