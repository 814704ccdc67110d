import type { Random } from '../runtime/random.ts'
import { formatValue, HistoryRecorder, type Operation } from './checker/history.ts'
import { drawOperation, finalRead, outcomeOf, type Family, type Keyspace, type OpSpec, type Outcome } from './operations.ts'
import { chance, intBetween } from './seed.ts'
import type { CallPort } from './sim-client.ts'
import type { World } from './world.ts'

/** Longest pause of a client between two operations, in simulated ms. */
const thinkMsMax = 40
/** Pause of a client after an operation with an unknown outcome, in simulated ms. */
const backoffMsMin = 50
const backoffMsMax = 300

/**
 * Seeded clients calling the world's actors, Jepsen style: each client runs one operation at a
 * time and records it as invoked, then ok / fail / info. With `retries`, a timed-out call is
 * sent once more with the same request id (the operation stays one operation in the history).
 */
export class Workload {
  readonly recorder = new HistoryRecorder()
  /** The family of every key used, for the checkers. */
  readonly families = new Map<string, Family>()
  /** Final values read in the liveness phase, by key. */
  readonly finals = new Map<string, unknown>()
  /** Final tags (the operations applied to each key's state, oldest first), read in the liveness phase. */
  readonly finalTags = new Map<string, readonly string[]>()
  private readonly world: World
  private readonly keys: Keyspace
  private readonly retries: boolean
  private readonly recent = new Map<string, unknown>()
  private running = 0
  private stopping = false
  private uniques = 0
  private operations = 0

  constructor(world: World, keys: Keyspace, retries: boolean) {
    this.world = world
    this.keys = keys
    this.retries = retries
    for (const family of ['counter', 'register', 'account', 'bank'] as const) for (const key of keys[family]) this.families.set(key, family)
  }

  /** Starts one operation loop per client; they run until `stop`. */
  start(clients: readonly { port: CallPort; random: Random }[]): void {
    for (const { port, random } of clients) {
      this.running++
      void this.loop(port, random).finally(() => this.running--)
    }
  }

  /** Clients finish the operation they are in and start no more. */
  stop(): void {
    this.stopping = true
  }

  /** True once every client loop has ended. */
  get idle(): boolean {
    return this.running === 0
  }

  /** The history so far (pending operations count as unknown). */
  history(): readonly Operation[] {
    return this.recorder.history()
  }

  /** Reads every key's final value and tags through `port`, `attempts` tries each; returns the keys it could not read. */
  async finalReads(port: CallPort, attempts: number): Promise<string[]> {
    // A round of reads replaces the last one's.
    this.finals.clear()
    this.finalTags.clear()
    const unreachable: string[] = []
    await Promise.all([...this.families].map(async ([key, family]) => {
      let read = false
      for (let i = 0; i < attempts && !read; i++) {
        const outcome = await this.perform(port, finalRead(family, key), `final-${i}`)
        if (outcome.status === 'ok') {
          this.finals.set(key, outcome.output)
          read = true
        }
      }
      for (let i = 0; i < attempts && read && !this.finalTags.has(key); i++) {
        try {
          this.finalTags.set(key, await port.call(key, 'tags', []) as string[])
        } catch {
          // tried again below, up to `attempts`
        }
      }
      if (!read || !this.finalTags.has(key)) unreachable.push(key)
    }))
    return unreachable.sort()
  }

  private async loop(port: CallPort, random: Random): Promise<void> {
    while (!this.stopping) {
      const spec = drawOperation(random, this.keys, () => `v${this.uniques++}`, (key) => this.recent.get(key))
      const outcome = await this.perform(port, spec, port.id, random)
      if (this.stopping) break
      // After an unknown outcome a client backs off, as a real one reconnecting would.
      await this.world.sleep(outcome.status === 'info' ? intBetween(random, backoffMsMin, backoffMsMax) : intBetween(random, 0, thinkMsMax))
    }
  }

  /** Runs one operation and records it; returns how it ended. */
  private async perform(port: CallPort, spec: OpSpec, client: string, random?: Random): Promise<Outcome> {
    const { recorder, world } = this
    const tag = `${client}#${this.operations++}`
    const opId = recorder.invoke({ client, key: spec.key, name: spec.name, input: spec.input, requestId: tag }, world.clock.now())
    world.trace.add(`invoke #${opId} ${client} ${spec.key}.${spec.name}(${formatValue(spec.input)})`)
    const args = spec.tagged ? [...spec.args, tag] : [...spec.args]
    let outcome = await this.attempt(port, spec, args, undefined)
    const requestId = port.lastRequestId
    if (this.retries && random !== undefined && outcome.status === 'info' && requestId !== undefined && chance(random, 0.5)) {
      world.trace.add(`retry #${opId} with request ${requestId}`)
      outcome = await this.attempt(port, spec, args, requestId)
    }
    const now = world.clock.now()
    if (outcome.status === 'ok') {
      recorder.ok(opId, outcome.output, now)
      if (spec.family === 'register') this.recent.set(spec.key, spec.name === 'read' ? outcome.output : spec.name === 'write' ? spec.input : this.recent.get(spec.key))
    } else if (outcome.status === 'fail') recorder.fail(opId, outcome.error, now)
    else recorder.info(opId, now)
    const shown = outcome.status === 'ok' ? `ok ${formatValue(outcome.output)}` : `${outcome.status} ${outcome.error}`
    world.trace.add(`complete #${opId} ${shown}`)
    return outcome
  }

  private async attempt(port: CallPort, spec: OpSpec, args: unknown[], requestId: string | undefined): Promise<Outcome> {
    try {
      return outcomeOf(spec, { ok: true, value: await port.call(spec.key, spec.name, args, requestId) })
    } catch (error) {
      return outcomeOf(spec, { ok: false, error })
    }
  }
}
