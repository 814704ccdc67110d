/** Drives the real `troupe` binary (bin/troupe.js, built by the pretest script). */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../..', import.meta.url))
export const bin = join(root, 'bin/troupe.js')
/** The built example actors (Counter, Account, ChatRoom): JavaScript loads fastest in workers. */
export const examples = join(root, 'dist/actors/examples/index.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `troupe <args…>` to completion. */
export function troupe(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 30_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env: cleanEnv(env), timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : null) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env['FORCE_COLOR']
  delete env['NO_COLOR']
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  return env
}

/** A running `troupe start`. */
export interface Running {
  proc: ChildProcess
  url: string
  port: number
  /** Everything it printed so far. */
  output(): string
  /** Sends `signal` and resolves with the exit code once it exits. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  exited: Promise<number | null>
}

/** Starts `troupe start <args…>` and resolves once its gateway answers. */
export function startCluster(args: string[], timeoutMs = 20_000): Promise<Running> {
  const proc = spawn(process.execPath, [bin, 'start', ...args], { cwd: root, env: cleanEnv({}), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString() })
  proc.stderr!.on('data', (chunk: Buffer) => { out += chunk.toString() })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      reject(new Error(`troupe start did not come up in ${timeoutMs} ms:\n${out}`))
    }, timeoutMs)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`troupe start exited with ${code}:\n${out}`))
    })
    const check = (): void => {
      const match = /gateway on (http:\/\/[^\s]+)/.exec(out)
      if (!match) return
      clearTimeout(timer)
      proc.stdout!.off('data', check)
      const url = match[1]!
      resolve({
        proc,
        url,
        port: Number(new URL(url).port),
        output: () => out,
        exited,
        stop: async (signal = 'SIGTERM') => {
          if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
          return exited
        },
      })
    }
    proc.stdout!.on('data', check)
  })
}

/** A port nothing listens on (bound then released). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix = 'troupe-cli-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** The body of a gateway error. */
export interface ErrorBody {
  kind: string
  message: string
  name?: string
  actor?: string
  stack?: string
  data?: Record<string, unknown>
}

/** POSTs a call to the gateway; resolves with status and parsed body (typed by the caller, JSON by default). */
export async function post<T = JsonValue>(url: string, path: string, body: string | undefined, headers: Record<string, string> = {}): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } })
  const text = await response.text()
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T, headers: response.headers }
}

/** GETs a gateway route; resolves with status and parsed body (typed by the caller, JSON by default). */
export async function get<T = JsonValue>(url: string, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${path}`)
  const text = await response.text()
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T }
}
