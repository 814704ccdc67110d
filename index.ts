/**
 * troupe: virtual actors as TypeScript classes, placed by consistent hashing on a cluster of
 * worker threads.
 */
export { Actor, reentrant, readOnly, actorTypeOf, isActorClass, type ActorContext, type ActorHooks } from './actors/actor.ts'
export { actorKey, type ActorClass, type ActorRef, type ActorMethodName } from './actors/ref.ts'
export { Cluster, type ClusterOptions, type ClusterEvent, type HostInfo } from './runtime/node/cluster.ts'
export { Supervisor, type Strategy, type RestartType, type SupervisionOptions } from './runtime/supervision/supervisor.ts'
export type { Consistency } from './runtime/durability/consistency.ts'
export { ClusterClient, type ActorTarget, type ClusterClientOptions } from './runtime/client.ts'
export { Host, type HostOptions, type HostStats, type HostEvent } from './runtime/host.ts'
export { TroupeError, isTroupeError, type ErrorKind, type SerializedError } from './runtime/errors.ts'
export { defaultLimits, resolveLimits, type Limits } from './runtime/limits.ts'
export { Placement, type RingOptions } from './runtime/ring.ts'
export { keyHash, loadPointHasher } from './runtime/hash.ts'
export { ActorRegistry } from './runtime/registry.ts'
export { systemClock, type Clock } from './runtime/clock.ts'
export { seededRandom, systemRandom, type Random } from './runtime/random.ts'
export type { View, HostId } from './runtime/view.ts'
export type { Transport, TransportHandlers, PeerId } from './transport/transport.ts'
export { MemoryNetwork, MemoryTransport } from './transport/memory.ts'
export { PortTransport } from './transport/port.ts'
export { decode, type Envelope, type CallEnvelope, type ReplyEnvelope, type RedirectEnvelope } from './transport/envelope.ts'
export { Counter, Account, ChatRoom, type ChatMessage } from './actors/examples/index.ts'
