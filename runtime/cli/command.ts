/** What a command is: its spec (flags, help) and what it does with parsed arguments. */
import type { CommandSpec, Parsed } from './args.ts'
import { styleFor, type Style } from './format.ts'

export interface Output {
  write(text: string): unknown
  isTTY?: boolean
}

export interface Io {
  stdout: Output
  stderr: Output
  env: Record<string, string | undefined>
}

export interface Command {
  spec: CommandSpec
  /** Returns the exit code. Throws UsageError, Unreachable, OutcomeUnknown or RemoteError for the runner to report. */
  run(parsed: Parsed, io: Io): Promise<number>
}

/** Exit codes of every command. */
export const exitCodes = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const

export function outStyle(io: Io): Style {
  return styleFor(io.stdout, io.env)
}
