import * as Comlink from 'comlink'
import { existsSync } from 'node:fs'
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads'
import type { Consistency } from '../durability/consistency.ts'
import { TroupeError, type ErrorKind } from '../errors.ts'
import type { Limits } from '../limits.ts'
import { pointCaches } from '../ring.ts'
import type { HostId, View } from '../view.ts'
import { comlinkEndpoint } from './comlink-endpoint.ts'
import type { HostControl, HostWorkerData } from './host-control.ts'

/** What every host of one cluster is started with. */
export interface HostSettings {
  actorsUrl: string
  replicas: number
  consistency: Consistency
  dataDir: string | undefined
  limits: Limits
  /** Per-worker V8 heap limit in MB (a host that exceeds it crashes alone). */
  heapMbMax: number | undefined
  /** How long hosts and the client poll their ports before sleeping, in µs (0: never). */
  spinWaitUs: number
  /** One Int32, shared by every thread of the cluster: they spin only while it is not 0. */
  spinGate: SharedArrayBuffer
}

/** One host worker as its supervisor sees it. */
export interface HostHandle {
  readonly id: HostId
  readonly worker: Worker
  readonly control: Comlink.Remote<HostControl>
  state: 'starting' | 'up' | 'down'
  /** Set when the supervisor itself stopped the worker (drain, restart, stop): not a failure. */
  stopping: boolean
  /** Set once its worker was terminated and its control proxy released. */
  retired: boolean
  /** Set by `kill` (chaos): its exit is reported as a kill. */
  killed: boolean
  /** Set when the supervisor will not replace it (see `Cluster.awaited`). */
  abandoned?: boolean
  /** Resolves when the worker exits: control calls to it stop waiting then. */
  readonly exited: Promise<void>
  /** Set to 1 by `fenceOff`: the host's data-plane sends stop (see HostWorkerData.fence). */
  readonly fence: Int32Array
  restarts: number
}

/**
 * Silences a host on the data plane, synchronously: whatever it sends after this call is
 * dropped on its own side. What it sent before was decided before its keys move, so a view
 * without it may be published at once, without waiting for its worker to exit.
 */
export function fenceOff(handle: HostHandle): void {
  Atomics.store(handle.fence, 0, 1)
}

/** Starts a host worker on the given data-plane ports. */
export function spawnHost(id: HostId, settings: HostSettings, view: View, peers: Array<[string, MessagePort]>, restarts = 0, joinedLater = false): HostHandle {
  // Other hosts served while this one was down (the view it joins lists them): they may have written.
  const othersServed = view.hosts.some((h) => h !== id)
  const { port1, port2 } = new MessageChannel()
  const fence = new SharedArrayBuffer(4)
  const data: HostWorkerData = {
    hostId: id, actorsUrl: settings.actorsUrl, limits: settings.limits, view, peers, control: port2,
    replicas: settings.replicas, consistency: settings.consistency, dataDir: settings.dataDir,
    // A host that joins a running cluster holds nothing of the actors it takes over (unless it is a
    // replacement reopening its data directory): its recovery reads ask one owner more.
    restartedWithoutState: joinedLater && !(restarts > 0 && settings.dataDir !== undefined),
    // A replacement reopening its data directory may be behind what the others wrote meanwhile.
    restartedWithState: joinedLater && restarts > 0 && settings.dataDir !== undefined && othersServed,
    pointCaches: pointCaches([...view.hosts, id]),
    fence,
    spinWaitUs: settings.spinWaitUs,
    spinGate: settings.spinGate,
  }
  const worker = new Worker(hostWorkerUrl(), {
    workerData: data,
    transferList: [port2, ...peers.map(([, port]) => port)],
    name: id,
    ...(settings.heapMbMax !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: settings.heapMbMax } } : {}),
  })
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  return { id, worker, control: Comlink.wrap<HostControl>(comlinkEndpoint(port1)), state: 'starting', stopping: false, retired: false, killed: false, exited, fence: new Int32Array(fence), restarts }
}

/** A control-plane call to a host: rejects after `ms`, or at once if the host's worker exits first. */
export function ask<T>(handle: HostHandle, call: Promise<T>, ms: number, what: string): Promise<T> {
  const gone = handle.exited.then((): never => {
    throw new TroupeError('HostUnavailable', `${handle.id} exited during ${what}`)
  })
  return withDeadline(Promise.race([call, gone]), ms, `${handle.id} ${what}`)
}

/** Kinds of a host's start-up failure that say more than `HostUnavailable`: its journal's. */
const startupKinds: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['CorruptRecord', 'StorageFailed', 'StorageFull'])

/** Resolves with the actor types once the host serves calls; rejects if it dies first. */
export function whenReady(handle: HostHandle): Promise<ReturnType<HostControl['ready']>> {
  return new Promise((resolve, reject) => {
    // A journal that cannot open says why in its kind (CorruptRecord, StorageFailed, ...): kept.
    const onError = (error: Error & { kind?: unknown }): void => {
      reject(new TroupeError(startupKinds.has(error.kind as ErrorKind) ? error.kind as ErrorKind : 'HostUnavailable', `${handle.id} failed to start: ${error.message}`))
    }
    const onExit = (code: number): void => reject(new TroupeError('HostUnavailable', `${handle.id} exited with code ${code} while starting`))
    handle.worker.once('error', onError)
    handle.worker.once('exit', onExit)
    handle.control.ready().then((ready) => {
      handle.worker.off('error', onError)
      handle.worker.off('exit', onExit)
      // Given up on meanwhile (it crashed right after start-up): it stays down.
      if (handle.state === 'down') return reject(new TroupeError('HostUnavailable', `${handle.id} failed while starting`))
      handle.state = 'up'
      resolve(ready)
    }, reject)
  })
}

/** Rejects with `CallTimeout` if `promise` has not settled within `ms` (real time: the control plane only). */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TroupeError('CallTimeout', `${what} did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

function hostWorkerUrl(): URL {
  // Workers always run the bundle (a few files to load instead of ~60 modules), whichever copy of
  // this module spawns them: the sources (tests, tsx), tsc's dist/ (CLI, demo) or the bundle.
  const here = import.meta.url
  const dir = new URL('.', here).pathname
  const path = here.endsWith('.ts') ? '../../dist/bundle/host-worker.js'
    : dir.endsWith('/bundle/') ? './host-worker.js'
    : dir.endsWith('/bundle/chunks/') ? '../host-worker.js'
    : '../../bundle/host-worker.js'
  const url = new URL(path, here)
  if (!existsSync(url)) throw new TroupeError('InvalidArgument', `host worker not built at ${url.pathname}: run npm run build`)
  return url
}
