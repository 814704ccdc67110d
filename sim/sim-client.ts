import { ClusterClient } from '../runtime/client.ts'
import { Caller } from '../runtime/caller.ts'
import { TroupeError } from '../runtime/errors.ts'
import type { Random } from '../runtime/random.ts'
import { randomId } from '../runtime/random.ts'
import { Placement } from '../runtime/ring.ts'
import type { PeerId } from '../transport/transport.ts'
import type { World } from './world.ts'

/** What the workload needs from a client: calls (optionally with a given request id), in-flight count, stop. */
export interface CallPort {
  readonly id: PeerId
  /** Calls `method` on `key`; `requestId` set means a retry of an earlier call. */
  call(key: string, method: string, args: unknown[], requestId?: string): Promise<unknown>
  /** The request id the next fresh call will get is not known; this returns the one it used. */
  readonly lastRequestId: string | undefined
  readonly inFlight: number
  stop(): void
}

/** A `ClusterClient` on the world's network: the ordinary caller, which cannot retry with a given id. */
export function clusterClientPort(world: World, id: PeerId, random: Random): CallPort {
  const client = new ClusterClient({ id, transport: world.connectClient(id), hasher: world.hasher, view: world.view, limits: world.limits, clock: world.clock, random })
  world.onView((view) => client.setView(view))
  return {
    id,
    call(key, method, args, requestId) {
      if (requestId !== undefined) return Promise.reject(new TroupeError('InvalidArgument', 'ClusterClient cannot reuse a request id'))
      return client.callKey(key, method, args)
    },
    lastRequestId: undefined,
    get inFlight() {
      return client.inFlight
    },
    stop: () => client.stop(),
  }
}

/**
 * The runtime's `Caller`, wired as `ClusterClient` wires it, but exposing request ids so a
 * timed-out call can be retried with the same id (what DESIGN.md says callers do).
 */
export function retryingPort(world: World, id: PeerId, random: Random): CallPort {
  const transport = world.connectClient(id)
  let placement = Placement.build(world.view, world.limits, world.hasher)
  const idPrefix = `${id}.${randomId(random)}`
  let sequence = 0
  let lastRequestId: string | undefined
  const caller = new Caller({
    self: id,
    idPrefix,
    clock: world.clock,
    limits: world.limits,
    router: {
      primary: (key) => placement.primary(key),
      epoch: () => placement.view.epoch,
      adopt: (view) => {
        if (view.epoch <= placement.view.epoch) return false
        placement = Placement.build(view, world.limits, world.hasher)
        return true
      },
    },
    send: (to, envelope) => transport.send(to, envelope),
  })
  transport.listen({
    envelope: (_from, envelope) => {
      if (envelope.t === 'reply' || envelope.t === 'redirect') caller.receive(envelope)
    },
    undeliverable: (_to, envelope, error) => caller.undeliverable(envelope, error),
  })
  world.onView((view) => {
    if (view.epoch <= placement.view.epoch) return
    placement = Placement.build(view, world.limits, world.hasher)
    caller.viewChanged()
  })
  return {
    id,
    call(key, method, args, requestId) {
      lastRequestId = requestId ?? `${idPrefix}:r${(sequence++).toString(36)}`
      return caller.call(key, method, args, { requestId: lastRequestId })
    },
    get lastRequestId() {
      return lastRequestId
    },
    get inFlight() {
      return caller.inFlight
    },
    stop() {
      caller.stop(new TroupeError('ClusterStopped', `client ${id} stopped`))
      transport.close()
    },
  }
}
