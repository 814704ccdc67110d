/**
 * The CLI's side of the gateway: JSON over HTTP with errors a user can act on. node:http rather
 * than fetch: fetch's URL parser removes "." and ".." path segments (an actor with the id ".."
 * was out of reach), and it cannot tell a connection refused from an answer lost on the way back.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { urlToHttpOptions } from 'node:url'

/** The error body every gateway error carries. */
export interface RemoteErrorBody {
  kind: string
  message: string
  name?: string
  actor?: string
}

/** The cluster could not be reached at all (refused, unknown host, no connection in time); exit code 3. */
export class Unreachable extends Error {
  readonly url: string
  constructor(url: string, reason: string) {
    super(`cannot reach a troupe cluster at ${url} (${reason}); is \`troupe start\` running there? (choose it with --port or --url)`)
    this.url = url
  }
}

/**
 * The request went out but no complete answer came back (the connection dropped, the body was
 * cut off, no answer in time): the cluster was reached, and whether the operation took effect
 * is unknown; exit code 1.
 */
export class OutcomeUnknown extends Error {
  readonly url: string
  constructor(url: string, method: string, reason: string, hint: string) {
    super(method === 'GET'
      ? `no complete answer from the troupe cluster at ${url} (${reason})`
      : `outcome unknown: the request reached the troupe cluster at ${url} but no complete answer came back (${reason}), so it may or may not have taken effect; ${hint}`)
    this.url = url
  }
}

/** The gateway answered with an error; exit code 1. */
export class RemoteError extends Error {
  readonly status: number
  readonly body: RemoteErrorBody
  constructor(status: number, body: RemoteErrorBody) {
    super(body.message)
    this.status = status
    this.body = body
  }
}

export interface RequestExtras {
  headers?: Record<string, string>
  /** What to do when the outcome of a POST is unknown (default: look with `troupe status`). */
  ifUnknown?: string
}

export class GatewayClient {
  readonly baseUrl: string
  private readonly timeoutMs: number

  constructor(baseUrl: string, options: { timeoutMs?: number } = {}) {
    this.baseUrl = baseUrl
    this.timeoutMs = options.timeoutMs ?? 120_000
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path)
  }

  post<T>(path: string, body?: unknown, extras: RequestExtras = {}): Promise<T> {
    return this.request<T>('POST', path, body, extras)
  }

  /** Sends `path` (already percent-encoded) as it is, after the base URL's own path. */
  request<T>(method: string, path: string, body?: unknown, extras: RequestExtras = {}): Promise<T> {
    const base = new URL(this.baseUrl)
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const headers: Record<string, string | number> = { accept: 'application/json', ...extras.headers, 'content-length': payload === undefined ? 0 : Buffer.byteLength(payload) }
    if (payload !== undefined) headers['content-type'] = 'application/json'
    const https = base.protocol === 'https:'
    const options: RequestOptions = { ...urlToHttpOptions(base), path: `${base.pathname.replace(/\/+$/, '')}${path}`, method, headers, agent: false }
    return new Promise<T>((resolve, reject) => {
      // Before the connection is up nothing was sent: the cluster is unreachable. After it, the
      // gateway may have the request, so a lost answer leaves the outcome unknown.
      let connected = false
      let settled = false
      let timer: ReturnType<typeof setTimeout> | undefined
      const settle = (outcome: () => T): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        try {
          resolve(outcome())
        } catch (error) {
          reject(error)
        }
      }
      const fail = (reason: string): void => settle(() => {
        throw connected ? new OutcomeUnknown(this.baseUrl, method, reason, extras.ifUnknown ?? 'look with `troupe status`') : new Unreachable(this.baseUrl, reason)
      })
      const req: ClientRequest = (https ? httpsRequest : httpRequest)(options, (res: IncomingMessage) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk)
          size += chunk.length
        })
        res.on('error', () => undefined) // reported by 'close' below, with what arrived
        res.on('end', () => settle(() => this.answer<T>(method, path, res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))))
        res.on('close', () => {
          if (!res.complete) fail(`the answer was cut off after ${size} bytes of its body`)
        })
      })
      req.on('socket', (socket) => socket.once(https ? 'secureConnect' : 'connect', () => { connected = true }))
      req.on('error', (error) => fail(reasonOf(error)))
      req.end(payload)
      timer = setTimeout(() => {
        fail(`no answer within ${this.timeoutMs} ms`)
        req.destroy()
      }, this.timeoutMs)
    })
  }

  private answer<T>(method: string, path: string, status: number, text: string): T {
    const url = `${this.baseUrl}${path}`
    const ok = status >= 200 && status < 300
    // The gateway answers every request with a JSON body ("null" for no result).
    if (ok && text === '') throw new RemoteError(status, { kind: 'BadResponse', message: `${method} ${url} answered ${status} with an empty body: is this a troupe gateway?` })
    let parsed: unknown
    try {
      parsed = text === '' ? null : JSON.parse(text)
    } catch {
      throw new RemoteError(status, { kind: 'BadResponse', message: `${url} answered ${status} with a body that is not JSON: is this a troupe gateway?` })
    }
    if (!ok) {
      const b = parsed as Partial<RemoteErrorBody> | null
      throw new RemoteError(status, {
        ...(b ?? {}),
        kind: typeof b?.kind === 'string' ? b.kind : `HTTP${status}`,
        message: typeof b?.message === 'string' ? b.message : `${url} answered ${status}`,
      })
    }
    return parsed as T
  }
}

function reasonOf(error: unknown): string {
  // A name that resolves to several addresses fails with an AggregateError of one per address.
  const e = error as { code?: string; message?: string; errors?: Array<{ code?: string }> }
  return e?.code ?? e?.errors?.[0]?.code ?? e?.message ?? String(error)
}
