/** `troupe start`: the cluster and its HTTP gateway, until SIGINT/SIGTERM. */
import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { consistencyLevels, type Consistency } from '../../durability/consistency.ts'
import { isTroupeError } from '../../errors.ts'
import { bodyBytesMaxMax, Gateway } from '../../gateway/server.ts'
import { resolveLimits } from '../../limits.ts'
import { Cluster, hostsMax } from '../../node/cluster.ts'
import { intOption, UsageError, type CommandSpec, type Parsed } from '../args.ts'
import { exitCodes, outStyle, type Command, type Io } from '../command.ts'
import { formatEvent } from '../format.ts'

/** Signals closer together than this are one stop request delivered twice. */
const repeatedSignalMs = 1000

const spec: CommandSpec = {
  name: 'start',
  args: '<actors-module>',
  summary: 'start a cluster serving the actors a module exports, with its HTTP gateway; run until SIGINT/SIGTERM',
  positionals: { min: 1, max: 1 },
  options: {
    hosts: { type: 'string', value: '<n>', description: `host worker threads, 1 to ${hostsMax} (default: available parallelism)` },
    replicas: { type: 'string', value: '<n>', description: 'backups per actor, 0 to 7 (default 2)' },
    consistency: { type: 'string', value: '<level>', description: `when a result is released: ${consistencyLevels.join(', ')} (default strong)` },
    data: { type: 'string', value: '<dir>', description: 'journal to files in this directory; restarting on it recovers every actor (default: in memory)' },
    port: { type: 'string', short: 'p', value: '<port>', description: 'gateway port (default 7070; 0 picks a free one)' },
    bind: { type: 'string', value: '<address>', description: 'gateway address (default 127.0.0.1; 0.0.0.0 exposes kill/drain to the network)' },
    'body-limit': { type: 'string', value: '<bytes>', description: `largest request body the gateway accepts, 1 to ${bodyBytesMaxMax} (default 1048576)` },
    'call-timeout': { type: 'string', value: '<ms>', description: 'how long a call may wait for its reply, 1 to 2147483647 (default 30000)' },
  },
  details: 'The module may be TypeScript or JavaScript; every exported Actor class is served.\nOn SIGINT/SIGTERM the gateway stops taking requests, actors are drained and journals flushed, and\nthe process exits 0. A second signal (a second or more after the first) exits at once.',
  examples: [
    'troupe start ./my-actors.ts --hosts 4 --data ./.troupe',
    'troupe start dist/actors/examples/index.js --port 8080 --consistency quorum',
  ],
}

export const start: Command = {
  spec,
  async run(parsed: Parsed, io: Io): Promise<number> {
    const { values } = parsed
    const modulePath = parsed.positionals[0]!
    const hosts = intOption(values, 'hosts', 'start', { min: 1, max: hostsMax })
    const replicas = intOption(values, 'replicas', 'start', { min: 0, max: 7 })
    const port = intOption(values, 'port', 'start', { min: 0, max: 65535 }) ?? 7070
    const bodyBytesMax = intOption(values, 'body-limit', 'start', { min: 1, max: bodyBytesMaxMax })
    // A timer longer than 2^31 - 1 ms fires at once: every call would time out.
    const callTimeoutMs = intOption(values, 'call-timeout', 'start', { min: 1, max: 2_147_483_647 })
    const consistency = values['consistency']
    if (consistency !== undefined && !(consistencyLevels as readonly unknown[]).includes(consistency)) {
      throw new UsageError(`--consistency must be one of ${consistencyLevels.join(', ')}, got ${JSON.stringify(consistency)}`, 'start')
    }
    // resolve('') is the working directory: an empty --data would journal there unasked.
    if (values['data'] === '') throw new UsageError('--data needs a directory, got ""', 'start')
    const dataDir = typeof values['data'] === 'string' ? resolve(values['data']) : undefined
    const bind = typeof values['bind'] === 'string' ? bindAddress(values['bind']) : '127.0.0.1'
    const limits = resolveLimits(callTimeoutMs === undefined ? {} : { callTimeoutMs })
    const say = (line: string): void => void io.stdout.write(`troupe: ${line}\n`)
    const style = outStyle(io)

    // Signals are caught from here on: one during startup stops the cluster as soon as it is up.
    let signalled: string | undefined
    let signalledAtMs = 0
    let wake: (() => void) | undefined
    const onSignal = (signal: string): void => {
      if (signalled !== undefined) {
        // The same stop delivered twice (to this process, then to its group: coreutils `timeout`,
        // a terminal's Ctrl-C under a wrapper) is one request; a second one a moment later is not.
        if (performance.now() - signalledAtMs < repeatedSignalMs) return
        io.stderr.write(`troupe: ${signal} again: exiting without a graceful stop\n`)
        process.exit(130)
      }
      signalled = signal
      signalledAtMs = performance.now()
      wake?.()
    }
    const onInt = (): void => onSignal('SIGINT')
    const onTerm = (): void => onSignal('SIGTERM')
    process.on('SIGINT', onInt)
    process.on('SIGTERM', onTerm)
    try {
      const info = { actors: modulePath, replicas: replicas ?? 2, consistency: (consistency as string | undefined) ?? 'strong', dataDir }
      const gateway = new Gateway({ bodyBytesMax, ring: limits, info })
      // The port first: a taken port fails before any worker starts.
      let listening: { url: string; port: number }
      try {
        listening = await gateway.listen(port, bind)
      } catch (error) {
        const code = (error as { code?: string }).code
        io.stderr.write(`troupe: cannot listen on ${bind}:${port}: ${code === 'EADDRINUSE' ? 'the port is in use (another troupe start?); choose one with --port' : (error as Error).message}\n`)
        return exitCodes.failed
      }
      let cluster: Cluster
      const startedMs = performance.now()
      try {
        cluster = await Cluster.start({
          actors: resolve(modulePath),
          ...(hosts !== undefined ? { hosts } : {}),
          ...(replicas !== undefined ? { replicas } : {}),
          ...(consistency !== undefined ? { consistency: consistency as Consistency } : {}),
          ...(dataDir !== undefined ? { dataDir } : {}),
          limits: callTimeoutMs === undefined ? {} : { callTimeoutMs },
        })
      } catch (error) {
        await gateway.close(0)
        io.stderr.write(`troupe: cannot start the cluster: ${isTroupeError(error) ? `${error.kind}: ` : ''}${(error as Error).message}\n`)
        return isTroupeError(error, 'InvalidArgument') ? exitCodes.usage : exitCodes.failed
      }
      gateway.attach(cluster)
      let escalated: string | undefined
      cluster.on((event) => {
        say(formatEvent({ ...(JSON.parse(JSON.stringify(event)) as Record<string, unknown>), kind: event.kind }, style))
        // The root supervisor gave up (and stops the cluster): so does the process, with an error.
        if (event.kind === 'escalated') {
          escalated = event.reason
          wake?.()
        }
      })
      say(`serving ${modulePath} on ${cluster.view.hosts.length} hosts in ${Math.round(performance.now() - startedMs)} ms (view epoch ${cluster.view.epoch}): ${cluster.view.hosts.join(', ')}`)
      say(`consistency ${info.consistency}, replicas ${info.replicas}, data ${dataDir ?? 'in memory (lost on stop; use --data to keep it)'}`)
      // --port finds a gateway on 127.0.0.1 only (0.0.0.0 includes it); another address needs --url.
      const where = new URL(listening.url).hostname === '127.0.0.1' ? `--port ${listening.port}` : `--url ${listening.url}`
      say(`gateway on ${listening.url}  (POST /actors/:type/:id/:method, GET /status; try: troupe status ${where})`)
      if (signalled === undefined) await new Promise<void>((done) => { wake = done })
      wake = undefined
      say(escalated !== undefined ? 'stopping: the supervisor escalated' : `${signalled}: stopping (draining actors, flushing journals)`)
      const stopping = performance.now()
      await gateway.close()
      try {
        await cluster.stop()
      } catch (error) {
        io.stderr.write(`troupe: the cluster did not stop cleanly: ${(error as Error).message}\n`)
        return exitCodes.failed
      }
      say(`stopped in ${Math.round(performance.now() - stopping)} ms`)
      return escalated === undefined ? exitCodes.ok : exitCodes.failed
    } finally {
      process.off('SIGINT', onInt)
      process.off('SIGTERM', onTerm)
    }
  },
}

/**
 * The --bind address: an IP address (IPv6 with or without brackets) or a host name. Checked
 * here because Node reads an empty host as every interface, which would open kill and drain to
 * the network unasked.
 */
function bindAddress(raw: string): string {
  const bracketed = raw.startsWith('[') && raw.endsWith(']') ? raw.slice(1, -1) : undefined
  if (bracketed !== undefined ? isIP(bracketed) === 6 : isIP(raw) !== 0) return bracketed ?? raw
  const address = raw
  const labels = address.split('.')
  // A host name: dot-separated labels of letters, digits and inner hyphens, not all digits at the
  // end (so 999.1.1.1 is a bad IPv4 address, not a name to look up).
  const hostname = address.length > 0 && address.length <= 253 && labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(l)) && !/^\d+$/.test(labels.at(-1)!)
  if (!hostname) throw new UsageError(`--bind must be an IP address or a host name (e.g. 127.0.0.1, ::1, 0.0.0.0, localhost), got ${JSON.stringify(raw)}`, 'start')
  return address
}
