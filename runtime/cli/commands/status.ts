/** `troupe status` and `troupe top`. */
import type { ClusterStatus } from '../../gateway/server.ts'
import { intOption, remoteOptions, type CommandSpec, type Parsed } from '../args.ts'
import { exitCodes, outStyle, type Command, type Io } from '../command.ts'
import { jsonOutput, renderStatus } from '../format.ts'
import { clientFor } from './remote.ts'

const statusSpec: CommandSpec = {
  name: 'status',
  args: '',
  summary: 'show the view, each host (actors, calls/s, p99, replication lag, restarts, ring share) and recent events',
  positionals: { min: 0, max: 0 },
  options: {
    ...remoteOptions,
    json: { type: 'boolean', description: 'print the gateway\'s GET /status JSON' },
  },
  examples: ['troupe status', 'troupe status --json --port 8080'],
}

export const status: Command = {
  spec: statusSpec,
  async run(parsed: Parsed, io: Io): Promise<number> {
    const client = clientFor(parsed.values, 'status', io, 10_000)
    const body = await client.get<ClusterStatus>('/status')
    io.stdout.write(parsed.values['json'] ? jsonOutput(body) : renderStatus(body, client.baseUrl, outStyle(io)))
    return exitCodes.ok
  },
}

const topSpec: CommandSpec = {
  name: 'top',
  args: '',
  summary: 'the status view, refreshing in place until Ctrl-C',
  positionals: { min: 0, max: 0 },
  options: {
    ...remoteOptions,
    interval: { type: 'string', short: 'n', value: '<ms>', description: 'refresh period, 50 to 2147483647 (default 1000)' },
    iterations: { type: 'string', value: '<n>', description: 'stop after n refreshes (default: until Ctrl-C)' },
    once: { type: 'boolean', description: 'one refresh, then exit (same as --iterations 1)' },
  },
  details: 'On a terminal the screen is redrawn in place; otherwise each refresh is printed after the last.',
  examples: ['troupe top', 'troupe top --interval 250', 'troupe top --once'],
}

export const top: Command = {
  spec: topSpec,
  async run(parsed: Parsed, io: Io): Promise<number> {
    const { values } = parsed
    // A timer longer than 2^31 - 1 ms fires at once: every frame would follow the last.
    const intervalMs = intOption(values, 'interval', 'top', { min: 50, max: 2_147_483_647 }) ?? 1000
    const iterations = values['once'] ? 1 : intOption(values, 'iterations', 'top', { min: 1 })
    const client = clientFor(values, 'top', io, 10_000)
    const style = outStyle(io)
    const inPlace = io.stdout.isTTY === true
    let stop = false
    let wake: (() => void) | undefined
    const onSignal = (): void => { stop = true; wake?.() }
    process.on('SIGINT', onSignal)
    if (inPlace) io.stdout.write('\x1b[?25l') // hide the cursor while redrawing
    try {
      for (let i = 0; !stop && (iterations === undefined || i < iterations); i++) {
        if (i > 0) await new Promise<void>((done) => { wake = done; setTimeout(done, intervalMs) })
        if (stop) break
        const body = await client.get<ClusterStatus>('/status')
        const header = style.dim(`troupe top · every ${intervalMs} ms · ${new Date().toLocaleTimeString()} · Ctrl-C to quit`)
        const frame = `${header}\n${renderStatus(body, client.baseUrl, style)}`
        // Home, draw, then clear whatever the previous (longer) frame left below.
        io.stdout.write(inPlace ? `\x1b[H${frame.replaceAll('\n', '\x1b[K\n')}\x1b[J` : `${i > 0 ? '\n' : ''}${frame}`)
      }
    } finally {
      process.off('SIGINT', onSignal)
      if (inPlace) io.stdout.write('\x1b[?25h')
    }
    return exitCodes.ok
  },
}
