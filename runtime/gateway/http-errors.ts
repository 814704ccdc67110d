/**
 * Typed errors as HTTP answers: each troupe error kind maps to a status, and every error body is
 * `{ kind, message }` (plus `name`, `actor` and `data` for `ActorFailed`).
 */
import { isTroupeError, type ErrorKind } from '../errors.ts'

/** Kinds the gateway itself reports, beside troupe's own error kinds. */
export type GatewayErrorKind = 'NotFound' | 'MethodNotAllowed' | 'Unsupported' | 'Internal'

/** The JSON body of every error answer. */
export interface ErrorBody {
  kind: ErrorKind | GatewayErrorKind
  message: string
  /** For `ActorFailed`: the name of the error the actor threw (e.g. `RangeError`). */
  name?: string
  /** The actor the error concerns, as `Type/id`, when there is one. */
  actor?: string
  /** For `ActorFailed`: the fields of the error the actor threw (`code`...), without its `cause`, which stays inside as the stack does. */
  data?: Record<string, unknown>
}

/** An error the gateway answers with a given status and kind. */
export class HttpError extends Error {
  readonly status: number
  readonly kind: ErrorKind | GatewayErrorKind
  readonly headers: Record<string, string>

  constructor(status: number, kind: ErrorKind | GatewayErrorKind, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.kind = kind
    this.headers = headers
  }
}

const statusByKind: Partial<Record<ErrorKind, number>> = {
  UnknownActorType: 404,
  UnknownMethod: 404,
  InvalidArgument: 400,
  Unserializable: 400,
  PayloadTooLarge: 413,
  MailboxFull: 429,
  CallTimeout: 504,
  HostUnavailable: 503,
  ClusterStopped: 503,
  ActorFailed: 500,
}

/** The HTTP status of a troupe error kind (500 for kinds without a more precise one). */
export function statusOfKind(kind: ErrorKind): number {
  return statusByKind[kind] ?? 500
}

/** Status, headers and JSON body for anything a handler threw. */
export function errorAnswer(error: unknown): { status: number; headers: Record<string, string>; body: ErrorBody } {
  if (error instanceof HttpError) return { status: error.status, headers: error.headers, body: { kind: error.kind, message: error.message } }
  if (isTroupeError(error)) {
    const status = statusOfKind(error.kind)
    const body: ErrorBody = { kind: error.kind, message: error.message }
    if (error.causeName !== undefined) body.name = error.causeName
    if (error.actor !== undefined) body.actor = error.actor
    if (error.data !== undefined) {
      const { cause: _inside, ...fields } = error.data
      if (Object.keys(fields).length > 0) body.data = fields
    }
    const headers: Record<string, string> = status === 429 || status === 503 ? { 'retry-after': '1' } : {}
    return { status, headers, body }
  }
  const message = error instanceof Error ? error.message : String(error)
  return { status: 500, headers: {}, body: { kind: 'Internal', message } }
}
