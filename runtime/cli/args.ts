/**
 * Command specs and argument parsing. Each command declares its positionals and options once;
 * node:util `parseArgs` (strict) parses them, and the same spec writes the command's `--help`.
 */
import { parseArgs } from 'node:util'

export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  /** Placeholder shown in help, e.g. `<n>`. */
  value?: string
  description: string
  multiple?: boolean
}

export interface CommandSpec {
  name: string
  /** Positionals as shown in usage, e.g. `<actors-module>`. */
  args: string
  summary: string
  /** How many positionals the command takes. */
  positionals: { min: number; max: number }
  options: Record<string, OptionSpec>
  details?: string
  examples?: string[]
}

/** Bad usage: the message is shown with a pointer to the command's help; exit code 2. */
export class UsageError extends Error {
  readonly command: string | undefined
  constructor(message: string, command?: string) {
    super(message)
    this.command = command
  }
}

export type Values = Record<string, string | boolean | string[] | undefined>

export interface Parsed {
  values: Values
  positionals: string[]
  help: boolean
}

const helpOption: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' }

/** Parses `argv` against `spec`; throws UsageError for unknown flags or a wrong number of positionals. */
export function parseCommand(spec: CommandSpec, argv: string[]): Parsed {
  const options = Object.fromEntries(Object.entries({ ...spec.options, help: helpOption }).map(([name, o]) => {
    const config: { type: 'string' | 'boolean'; short?: string; multiple?: boolean } = { type: o.type }
    if (o.short !== undefined) config.short = o.short
    if (o.multiple) config.multiple = true
    return [name, config]
  }))
  let parsed
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError(cleanParseError((error as Error).message), spec.name)
  }
  const values = parsed.values as Values
  if (values['help'] === true) return { values, positionals: parsed.positionals, help: true }
  const count = parsed.positionals.length
  const { min, max } = spec.positionals
  if (count < min) throw new UsageError(`${spec.name} needs ${spec.args}`, spec.name)
  if (count > max) throw new UsageError(`${spec.name} takes ${max === 0 ? 'no arguments' : spec.args}; unexpected ${JSON.stringify(parsed.positionals[max])}`, spec.name)
  return { values, positionals: parsed.positionals, help: false }
}

function cleanParseError(message: string): string {
  // parseArgs suggests `--` for positionals that look like flags; say it in our words.
  return message.replace(/\. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- "[^"]*"/, '').replace(/\.$/, '')
}

/** An integer option, checked against bounds; undefined when absent. */
export function intOption(values: Values, name: string, command: string, bounds: { min: number; max?: number }): number | undefined {
  const raw = values[name]
  if (raw === undefined) return undefined
  const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(n) || n < bounds.min || (bounds.max !== undefined && n > bounds.max)) {
    const range = bounds.max !== undefined ? `from ${bounds.min} to ${bounds.max}` : `>= ${bounds.min}`
    throw new UsageError(`--${name} must be an integer ${range}, got ${JSON.stringify(raw)}`, command)
  }
  return n
}

/** An integer positional, checked against bounds. */
export function intPositional(raw: string, what: string, command: string, bounds: { min: number; max?: number }): number {
  const n = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(n) || n < bounds.min || (bounds.max !== undefined && n > bounds.max)) {
    throw new UsageError(`${what} must be an integer ${bounds.max !== undefined ? `from ${bounds.min} to ${bounds.max}` : `>= ${bounds.min}`}, got ${JSON.stringify(raw)}`, command)
  }
  return n
}

/** `Type/id` split at its first slash; UsageError when either part is empty. */
export function actorKeyArg(raw: string, command: string): { type: string; id: string } {
  const at = raw.indexOf('/')
  if (at <= 0 || at === raw.length - 1) throw new UsageError(`an actor is named Type/id (e.g. Counter/alice), got ${JSON.stringify(raw)}`, command)
  return { type: raw.slice(0, at), id: raw.slice(at + 1) }
}

/** The help text of one command, from its spec. */
export function helpOf(spec: CommandSpec): string {
  const lines = [`usage: troupe ${spec.name}${spec.args ? ` ${spec.args}` : ''} [options]`, '', spec.summary]
  if (spec.details) lines.push('', spec.details)
  const rows = Object.entries({ ...spec.options, help: helpOption }).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`
    return [flag, o.description] as const
  })
  const width = Math.max(...rows.map(([flag]) => flag.length))
  lines.push('', 'options:', ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`))
  if (spec.examples?.length) lines.push('', 'examples:', ...spec.examples.map((e) => `  ${e}`))
  return `${lines.join('\n')}\n`
}

/** The top-level help: every command with its summary. */
export function mainHelp(specs: readonly CommandSpec[]): string {
  const rows = specs.map((s) => [`${s.name}${s.args ? ` ${s.args}` : ''}`, s.summary.split('\n')[0]!] as const)
  const width = Math.max(...rows.map(([u]) => u.length))
  return [
    'usage: troupe <command> [options]',
    '',
    'troupe runs virtual actors on a cluster of worker threads. `troupe start` serves a cluster and',
    'its HTTP gateway; the other commands talk to a running one through --port (default 7070) or --url.',
    '',
    'commands:',
    ...rows.map(([u, s]) => `  ${u.padEnd(width)}  ${s}`),
    `  ${'help [command]'.padEnd(width)}  show help (also: troupe <command> --help)`,
    '',
    'exit codes: 0 ok, 1 the operation failed or its outcome is unknown (the answer was lost), 2 bad usage,',
    '3 the cluster could not be reached.',
    'NO_COLOR=1 turns colors off (FORCE_COLOR=1 forces them on).',
    '',
  ].join('\n')
}

/** Options every command that talks to a running cluster takes. */
export const remoteOptions: Record<string, OptionSpec> = {
  port: { type: 'string', short: 'p', value: '<port>', description: 'port of the cluster\'s gateway on 127.0.0.1 (default 7070)' },
  url: { type: 'string', value: '<url>', description: 'base URL of the gateway (overrides --port), e.g. http://10.0.0.5:7070' },
}

/** The gateway base URL from --url or --port. */
export function targetUrl(values: Values, command: string): string {
  const url = values['url']
  if (typeof url === 'string') {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new UsageError(`--url must be an http(s) URL, got ${JSON.stringify(url)}`, command)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--url must be an http(s) URL, got ${JSON.stringify(url)}`, command)
    // Each command appends its route to the URL: after a query or a fragment it would be lost.
    if (/[?#]/.test(parsed.href)) throw new UsageError(`--url may not hold a query or a fragment (the command adds its own path), got ${JSON.stringify(url)}`, command)
    if (parsed.username !== '' || parsed.password !== '') throw new UsageError('--url may not hold a user name or password', command)
    return parsed.href.replace(/\/+$/, '')
  }
  const port = intOption(values, 'port', command, { min: 1, max: 65535 }) ?? 7070
  return `http://127.0.0.1:${port}`
}
