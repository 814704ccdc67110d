import { actorContext, type Actor, type ActorContext, type ActorHooks } from '../actors/actor.ts'
import type { TroupeError } from './errors.ts'
import { Mailbox } from './mailbox.ts'
import type { ActorType } from './registry.ts'

/** The lifecycle of one activation. */
export type ActivationStatus = 'activating' | 'active' | 'deactivating' | 'gone'

/** The one live instance of an actor on its primary host, with its mailbox. */
export class Activation {
  readonly key: string
  readonly type: ActorType
  readonly instance: Actor<unknown> & ActorHooks
  readonly mailbox: Mailbox
  status: ActivationStatus = 'activating'
  lastUsedMs: number
  /** The call chain of the write turn running now (keys outermost first, ending with this key). */
  chain: string[]
  /** The request id of the turn running now, and how many calls it has made (for derived ids). */
  turnId = ''
  turnCalls = 0
  /** Actors this activation's turns are waiting on now, with how many calls to each. */
  readonly waitingOn = new Map<string, number>()
  /** Set when activation failed: calls that reach this instance get this error. */
  failure: TroupeError | undefined

  constructor(key: string, type: ActorType, context: ActorContext, mailboxDepthMax: number, nowMs: number) {
    this.key = key
    this.type = type
    this.instance = new type.actorClass() as Actor<unknown> & ActorHooks
    this.instance[actorContext] = context
    this.mailbox = new Mailbox(mailboxDepthMax)
    this.lastUsedMs = nowMs
    this.chain = [key]
  }
}
