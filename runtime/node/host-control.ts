import type { PointCaches } from '../ring.ts'
import type { Limits } from '../limits.ts'
import type { Consistency } from '../durability/consistency.ts'
import type { HostStats, Replicated } from '../host.ts'
import type { JournalRecord } from '../journal/storage.ts'
import type { HostId, View } from '../view.ts'
import type { MessagePort } from 'node:worker_threads'

/** What the cluster passes a host worker at spawn. */
export interface HostWorkerData {
  hostId: HostId
  /** URL of the user's actors module (TypeScript or JavaScript). */
  actorsUrl: string
  limits: Partial<Limits>
  view: View
  replicas: number
  consistency: Consistency
  /** Where this host journals to files (`<dataDir>/<hostId>`); in memory when absent. */
  dataDir: string | undefined
  /** This host replaces one whose state is gone. */
  restartedWithoutState: boolean
  /** This host replaces one on the same data directory (see `HostOptions.restartedWithState`). */
  restartedWithState: boolean
  /** Data-plane links: one port per peer (other hosts and clients). */
  peers: Array<[string, MessagePort]>
  /** The control-plane port (comlink). */
  control: MessagePort
  /** Ring points the supervisor already hashed (the same for every host): saves a cold worker the work. */
  pointCaches: PointCaches
  /**
   * One Int32 the supervisor sets (Atomics) when it gives up on this host: from then on the host
   * sends nothing on its data ports, so its keys can move at once, before its worker has exited.
   */
  fence: SharedArrayBuffer
  /** After each burst of work, poll the data ports this long before sleeping (0: never; see spin-wait.ts). */
  spinWaitUs: number
  /** One Int32 the supervisor sets: spin only while it is not 0 (it follows the membership). */
  spinGate: SharedArrayBuffer
}

/** What a serving host posts to its parent when it crashed (then it waits to be terminated). */
export interface CrashReport {
  crashed: string
}

export function isCrashReport(message: unknown): message is CrashReport {
  return typeof message === 'object' && message !== null && typeof (message as { crashed?: unknown }).crashed === 'string'
}

/** The control plane of a host worker, exposed with comlink (off the per-call hot path). */
export interface HostControl {
  /** Resolves once the host serves calls; returns the actor types it loaded and the newest epoch in its journal (0: none). */
  /** `journaled`: some actor type journals its turns (its level is not `memory`). */
  ready(): { types: string[]; journaled: boolean; epochMax: number }
  /** Resolves once the host's re-replication for its newest view is over, saying for which epoch and whether it completed (see Host.replicated). */
  replicated(): Promise<Replicated>
  setView(view: View): boolean
  /** A heartbeat from the supervisor: renews the host's lease for `leaseMs`. */
  ping(leaseMs: number): true
  stats(): HostStats
  /** Keys active on the host now. */
  activeKeys(): string[]
  /** An actor's journal as the host holds it. */
  journal(key: string): Promise<{ snapshot: { seq: number; epoch: number; state: unknown } | undefined; records: JournalRecord[] }>
  /** Adds a data-plane link to a new peer (a host or client that joined). */
  connect(peer: string, port: MessagePort): void
  /** Drops the data-plane link to a peer that left for good (a drained host). */
  disconnect(peer: string): void
  /** Passivates every actor, waiting for their last records to be durable; the host stays up. */
  drain(): Promise<void>
  /** Drains and closes; the worker exits afterwards. */
  stop(): Promise<void>
}
