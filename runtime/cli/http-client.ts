/** The CLI's side of the gateway: JSON over HTTP with errors a user can act on. */

/** The error body every gateway error carries. */
export interface RemoteErrorBody {
  kind: string
  message: string
  name?: string
  actor?: string
}

/** The cluster could not be reached at all (refused, unknown host, no answer in time); exit code 3. */
export class Unreachable extends Error {
  readonly url: string
  constructor(url: string, reason: string) {
    super(`cannot reach a troupe cluster at ${url} (${reason}); is \`troupe start\` running there? (choose it with --port or --url)`)
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

  post<T>(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    return this.request<T>('POST', path, body, headers)
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const url = `${this.baseUrl}${path}`
    let response: Response
    try {
      const init: RequestInit = { method, headers: { accept: 'application/json', ...headers }, signal: AbortSignal.timeout(this.timeoutMs) }
      if (body !== undefined) {
        init.body = JSON.stringify(body)
        ;(init.headers as Record<string, string>)['content-type'] = 'application/json'
      }
      response = await fetch(url, init)
    } catch (error) {
      throw new Unreachable(this.baseUrl, reasonOf(error, this.timeoutMs))
    }
    const text = await response.text().catch(() => '')
    let parsed: unknown
    try {
      parsed = text === '' ? null : JSON.parse(text)
    } catch {
      throw new RemoteError(response.status, { kind: 'BadResponse', message: `${url} answered ${response.status} with a body that is not JSON: is this a troupe gateway?` })
    }
    if (!response.ok) {
      const b = parsed as Partial<RemoteErrorBody> | null
      throw new RemoteError(response.status, {
        ...(b ?? {}),
        kind: typeof b?.kind === 'string' ? b.kind : `HTTP${response.status}`,
        message: typeof b?.message === 'string' ? b.message : `${url} answered ${response.status}`,
      })
    }
    return parsed as T
  }
}

function reasonOf(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error)
}
