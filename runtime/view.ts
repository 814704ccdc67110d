import { TroupeError } from './errors.ts'

/** A host's id, e.g. `host-0`. "Host", never "node", so it does not collide with Node.js. */
export type HostId = string

/** The membership: which hosts exist in which epoch. The epoch only grows. */
export interface View {
  readonly epoch: number
  readonly hosts: readonly HostId[]
}

/** Validates an untrusted view (from the wire or a user), or throws `InvalidArgument`. */
export function parseView(input: unknown): View {
  if (typeof input !== 'object' || input === null) throw invalid('a view must be an object')
  const { epoch, hosts } = input as { epoch?: unknown; hosts?: unknown }
  if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 0) throw invalid('view.epoch must be a non-negative integer')
  if (!Array.isArray(hosts)) throw invalid('view.hosts must be an array')
  const seen = new Set<string>()
  for (const host of hosts) {
    if (typeof host !== 'string' || host.length === 0 || host.length > 256) throw invalid('view.hosts must hold non-empty strings')
    if (seen.has(host)) throw invalid(`view.hosts lists ${host} twice`)
    seen.add(host)
  }
  return { epoch, hosts: [...hosts] as HostId[] }
}

function invalid(message: string): TroupeError {
  return new TroupeError('InvalidArgument', message)
}
