import { TroupeError } from './errors.ts'

/** A host's id, e.g. `host-0`. "Host", never "node", so it does not collide with Node.js. */
export type HostId = string

/** The membership: which hosts exist in which epoch. The epoch only grows. */
export interface View {
  readonly epoch: number
  readonly hosts: readonly HostId[]
  /**
   * Shards (ascending) whose every host known to hold their actors' acknowledged writes is down,
   * awaiting a restart on its disk: calls to their actors wait, since starting one over on a host
   * that holds nothing of it would lose those writes (see `ShardHolders`). Absent: none.
   */
  readonly paused?: readonly number[]
}

/** Most shards a view may list as paused (the ring's own bound on shards). */
export const pausedShardsMax = 1 << 20

/** Validates an untrusted view (from the wire or a user), or throws `InvalidArgument`. */
export function parseView(input: unknown): View {
  if (typeof input !== 'object' || input === null) throw invalid('a view must be an object')
  const { epoch, hosts, paused } = input as { epoch?: unknown; hosts?: unknown; paused?: unknown }
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) throw invalid('view.epoch must be a non-negative integer')
  if (!Array.isArray(hosts)) throw invalid('view.hosts must be an array')
  const seen = new Set<string>()
  for (const host of hosts) {
    if (typeof host !== 'string' || host.length === 0 || host.length > 256) throw invalid('view.hosts must hold non-empty strings')
    if (seen.has(host)) throw invalid(`view.hosts lists ${host} twice`)
    seen.add(host)
  }
  if (paused === undefined) return { epoch, hosts: [...hosts] as HostId[] }
  return { epoch, hosts: [...hosts] as HostId[], paused: parsePaused(paused) }
}

function parsePaused(paused: unknown): number[] {
  if (!Array.isArray(paused) || paused.length > pausedShardsMax) throw invalid(`view.paused must be an array of at most ${pausedShardsMax} shards`)
  let last = -1
  for (const shard of paused) {
    if (typeof shard !== 'number' || !Number.isInteger(shard) || shard <= last || shard >= pausedShardsMax) throw invalid('view.paused must hold ascending shard numbers, each once')
    last = shard
  }
  return [...paused] as number[]
}

function invalid(message: string): TroupeError {
  return new TroupeError('InvalidArgument', message)
}
