/** Finds the command, parses its arguments, runs it, and turns failures into messages and exit codes. */
import { helpOf, mainHelp, parseCommand, UsageError } from './args.ts'
import { exitCodes, type Command, type Io } from './command.ts'
import { call } from './commands/call.ts'
import { drain, kill, scale } from './commands/hosts.ts'
import { journal } from './commands/journal.ts'
import { start } from './commands/start.ts'
import { status, top } from './commands/status.ts'
import { whatIf } from './commands/what-if.ts'
import { escapeControls, formatRemoteError, styleFor } from './format.ts'
import { OutcomeUnknown, RemoteError, Unreachable } from './http-client.ts'

export const commands: readonly Command[] = [start, status, top, call, kill, drain, scale, whatIf, journal]

/** Runs `troupe <argv…>`; resolves to the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv
  const specs = commands.map((c) => c.spec)
  if (name === undefined) {
    io.stderr.write(mainHelp(specs))
    return exitCodes.usage
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? rest[0] : undefined
    if (topic === undefined) {
      io.stdout.write(mainHelp(specs))
      return exitCodes.ok
    }
    const command = commands.find((c) => c.spec.name === topic)
    if (!command) return usageError(io, new UsageError(`no command "${topic}"`))
    io.stdout.write(helpOf(command.spec))
    return exitCodes.ok
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${await version()}\n`)
    return exitCodes.ok
  }
  const command = commands.find((c) => c.spec.name === name)
  if (!command) {
    const near = specs.map((s) => ({ s, d: distance(s.name, name) })).sort((a, b) => a.d - b.d).find((c) => c.d <= 2)?.s
    return usageError(io, new UsageError(`no command "${name}"${near ? ` (did you mean "${near.name}"?)` : ''}`))
  }
  const err = styleFor(io.stderr, io.env)
  try {
    const parsed = parseCommand(command.spec, rest)
    if (parsed.help) {
      io.stdout.write(helpOf(command.spec))
      return exitCodes.ok
    }
    return await command.run(parsed, io)
  } catch (error) {
    if (error instanceof UsageError) return usageError(io, error)
    // Reached but no complete answer: the operation may have happened, so it is not "unreachable".
    if (error instanceof Unreachable || error instanceof OutcomeUnknown) {
      io.stderr.write(`troupe: ${err.red(escapeControls(error.message))}\n`)
      return error instanceof Unreachable ? exitCodes.unreachable : exitCodes.failed
    }
    if (error instanceof RemoteError) {
      io.stderr.write(`troupe: ${err.red(formatRemoteError(error.body))}\n`)
      return exitCodes.failed
    }
    throw error
  }
}

function usageError(io: Io, error: UsageError): number {
  const hint = error.command ? `run "troupe ${error.command} --help" for its options` : 'run "troupe help" for the commands'
  io.stderr.write(`troupe: ${escapeControls(error.message)}\n${hint}\n`)
  return exitCodes.usage
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises')
  for (const path of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(await readFile(new URL(path, import.meta.url), 'utf8')) as { name?: string; version?: string }
      if (pkg.name === 'troupe') return `troupe ${pkg.version}`
    } catch {
      // try the next layout (source or dist)
    }
  }
  return 'troupe (unknown version)'
}

/** Edit distance (insert, delete, substitute, swap neighbours), for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1)
    }
  }
  return d[a.length]![b.length]!
}
