/** Text for humans: colors (off with NO_COLOR or off a terminal), tables, and the command views. */
import type { ClusterStatus } from '../gateway/server.ts'
import type { WhatIfKill } from '../gateway/what-if.ts'
import type { RemoteErrorBody } from './http-client.ts'

export interface Style {
  enabled: boolean
  bold(text: string): string
  dim(text: string): string
  red(text: string): string
  green(text: string): string
  yellow(text: string): string
  cyan(text: string): string
}

/**
 * Colors when writing to a terminal, unless NO_COLOR is set to anything non-empty
 * (https://no-color.org); FORCE_COLOR (not "0") turns them on off a terminal.
 */
export function styleFor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): Style {
  const force = env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0' && env['FORCE_COLOR'] !== 'false'
  const enabled = !env['NO_COLOR'] && (force || stream.isTTY === true) && env['TERM'] !== 'dumb'
  const sgr = (open: number, close: number) => (text: string): string => (enabled ? `\x1b[${open}m${text}\x1b[${close}m` : text)
  return { enabled, bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39) }
}

const ansi = /\x1b\[[0-9;]*m/g

/**
 * C0 and C1 control characters and DEL. Strings from the gateway (actor ids anyone calling it
 * chose, error messages actors wrote) may hold them, and a terminal acts on them: clears the
 * screen, moves the cursor, sets the window title.
 */
// eslint-disable-next-line no-control-regex
const controls = /[\u0000-\u001f\u007f-\u009f]/g
const escaped = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`

/** `text` with each control character (newlines too) written as `\u001b` and so on: shown, never acted on. */
export function escapeControls(text: string): string {
  return text.replace(controls, escaped)
}

/** `value` with every string in it, and every key, passed through escapeControls: for rendering as text. */
export function forTerminal<T>(value: T): T {
  if (typeof value === 'string') return escapeControls(value) as T
  if (Array.isArray(value)) return value.map(forTerminal) as T
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [escapeControls(k), forTerminal(v)])) as T
  return value
}

/**
 * `value` as JSON text, DEL and C1 characters escaped too (JSON.stringify escapes C0 only): still
 * JSON, with the same value, and safe on a terminal.
 */
export function jsonText(value: unknown, indent?: number): string {
  return (JSON.stringify(value, null, indent) ?? 'null').replace(/[\u007f-\u009f]/g, escaped)
}

/** What --json (and `troupe call`) prints: the JSON, indented, on lines of its own. */
export function jsonOutput(value: unknown): string {
  return `${jsonText(value, 2)}\n`
}

/** Width of `text` on screen (without color codes). */
export function visibleLength(text: string): number {
  return text.replace(ansi, '').length
}

/** A table with one header row; `right` lists the columns aligned right. */
export function table(header: string[], rows: string[][], right: ReadonlySet<number>, style: Style): string {
  const widths = header.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))))
  const line = (cells: string[]): string => cells.map((cell, i) => {
    const pad = ' '.repeat(widths[i]! - visibleLength(cell))
    return right.has(i) ? pad + cell : cell + pad
  }).join('  ').trimEnd()
  return [style.bold(line(header)), ...rows.map(line)].join('\n')
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

export function formatPercent(share: number): string {
  return `${(share * 100).toFixed(1)}%`
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`
  const m = Math.floor(s / 60)
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`
}

/** The `troupe status` view. */
export function renderStatus(raw: ClusterStatus, rawUrl: string, style: Style): string {
  const status = forTerminal(raw)
  const url = escapeControls(rawUrl)
  const { cluster, view } = status
  const paused = Array.isArray(view.paused) ? view.paused.length : 0
  const facts = [
    `view epoch ${view.epoch}`,
    paused > 0 ? style.red(`${pausedShards(paused)} paused (their holders are restarting)`) : undefined,
    `${cluster.hostsUp} of ${cluster.hostsUp + cluster.hostsDown} hosts up`,
    cluster.consistency ? `consistency ${cluster.consistency}` : undefined,
    cluster.replicas !== undefined ? `replicas ${cluster.replicas}` : undefined,
    `data ${cluster.dataDir ?? 'in memory'}`,
    `up ${formatDuration(cluster.uptimeMs)}`,
  ].filter((f) => f !== undefined)
  const lines = [`${style.bold('troupe')} ${style.cyan(url)}${cluster.actors ? `  ${style.dim(cluster.actors)}` : ''}`, facts.join(' · '), '']
  const rows = status.hosts.map((h) => {
    const up = h.state === 'up'
    const dash = style.dim('-')
    return [
      h.id,
      up ? style.green('up') : h.state === 'starting' ? style.yellow(h.state) : style.red(h.state),
      up ? formatCount(h.activations) : dash,
      up ? formatCount(h.replicas) : dash,
      up && h.callsPerSec !== null ? formatCount(Math.round(h.callsPerSec)) : dash,
      h.p99Ms !== null ? h.p99Ms.toFixed(1) : dash,
      h.replicationLag !== null ? formatCount(h.replicationLag) : dash,
      h.restarts > 0 ? style.yellow(String(h.restarts)) : '0',
      up ? formatPercent(h.ringShare) : dash,
    ]
  })
  lines.push(table(['HOST', 'STATE', 'ACTORS', 'REPLICAS', 'CALLS/S', 'P99 MS', 'REPL LAG', 'RESTARTS', 'RING'], rows, new Set([2, 3, 4, 5, 6, 7, 8]), style))
  lines.push('')
  const dup = status.duplicateActivations
  lines.push(`duplicate activations: ${dup === null ? style.dim('not reported by the hosts') : dup === 0 ? style.green('0') : style.red(String(dup))}`)
  lines.push(style.dim('P99 MS: calls sent through this gateway, last minute; REPL LAG: records backups have not acknowledged'))
  if (status.events.length > 0) {
    lines.push('', 'recent events:')
    for (const event of status.events.slice(-8)) lines.push(`  ${style.dim(event.at.slice(11, 19))}  ${formatEvent(event, style)}`)
  }
  return `${lines.join('\n')}\n`
}

function pausedShards(n: number): string {
  return n === 1 ? '1 shard' : `${formatCount(n)} shards`
}

/** One cluster event on one line. */
export function formatEvent(event: { kind: string } & Record<string, unknown>, style: Style): string {
  const { kind, at: _at, ...rest } = forTerminal(event)
  switch (kind) {
    case 'host-down': return `${style.red('host-down')}  ${String(rest['host'])}: ${String(rest['reason'] ?? '')}`
    case 'view': {
      const view = rest['view'] as { epoch?: number; hosts?: string[]; paused?: unknown } | undefined
      const paused = Array.isArray(view?.paused) && view.paused.length > 0 ? `; ${pausedShards(view.paused.length)} paused` : ''
      return `${style.cyan('view')}  epoch ${view?.epoch}: ${(view?.hosts ?? []).join(', ') || 'no hosts'}${paused}`
    }
    case 'host-up': return `${style.green('host-up')}  ${String(rest['host'])}`
    case 'restart': return `${style.yellow('restart')}  ${String(rest['host'])} (restart ${String(rest['restarts'])})`
    case 'escalated': return `${style.red('escalated')}  the supervisor gave up: ${String(rest['reason'] ?? '')}`
    case 'shards-lost': return `${style.red('shards-lost')}  ${pausedShards(Number(rest['shards']))} resumed with none of their hosts back (view epoch ${String(rest['epoch'])}): their writes are lost`
    case 'autoscale': return `${style.cyan('autoscale')}  ${String(rest['from'])} -> ${String(rest['to'])} hosts: ${String(rest['reason'] ?? '')}`
    default: return `${kind}  ${describeRest(rest)}`
  }
}

function describeRest(rest: Record<string, unknown>): string {
  return Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')
}

/** The `troupe what-if kill` view. */
export function renderWhatIf(raw: WhatIfKill, style: Style): string {
  const w = forTerminal(raw)
  const lines = [`if ${style.bold(w.host)} died now: view epoch ${w.before.epoch} -> ${w.after.epoch}, hosts ${w.after.hosts.join(', ')} (replicas ${w.replicas})`, '']
  const pct = (n: number): string => formatPercent(n / w.shardCount)
  lines.push(`${formatCount(w.primaryShards)} of ${formatCount(w.shardCount)} shards (${pct(w.primaryShards)}) lose their primary and move:`)
  if (w.moves.length === 0) lines.push('  none')
  for (const move of w.moves) {
    const state = move.cold === 0 ? style.green('warm: it holds a replica') : move.warm === 0 ? style.red('cold: it holds no copy') : style.yellow(`${formatCount(move.warm)} warm, ${formatCount(move.cold)} cold (no copy)`)
    lines.push(`  -> ${move.to.padEnd(10)} ${formatCount(move.shards).padStart(6)} shards  ${state}`)
  }
  lines.push('', `${formatCount(w.backupShards)} shards (${pct(w.backupShards)}) lose a backup and re-replicate to:`)
  if (w.newBackups.length === 0) lines.push('  none')
  for (const b of w.newBackups) lines.push(`  ${b.host.padEnd(13)} ${formatCount(b.shards).padStart(6)} shards`)
  lines.push('', 'ring share (primary shards) before -> after:')
  for (const r of w.ringShare) {
    lines.push(`  ${r.host.padEnd(13)} ${formatPercent(r.before).padStart(6)} -> ${r.host === w.host ? style.red('gone') : formatPercent(r.after)}`)
  }
  if (w.actors.length > 0) {
    lines.push('', 'actors:')
    const rows = w.actors.map((a) => {
      const effect = a.effect === 'moves-warm' ? style.green('moves, warm replica')
        : a.effect === 'moves-cold' ? style.red('moves, no copy (cold)')
        : a.effect === 'loses-backup' ? style.yellow('stays, backup replaced')
        : style.dim('unaffected')
      return [a.key, a.from, a.to, effect, a.ownersAfter.slice(1).join(', ') || '-']
    })
    lines.push(table(['ACTOR', 'NOW', 'AFTER', 'EFFECT', 'BACKUPS AFTER'], rows, new Set(), style).split('\n').map((l) => `  ${l}`).join('\n'))
  } else {
    lines.push('', style.dim('(name actors with --actor Type/id to see each one; the gateway also lists actors it has called)'))
  }
  return `${lines.join('\n')}\n`
}

/** `troupe journal` output: records one per line, snapshots labelled. */
export function renderJournal(key: string, journal: unknown, style: Style): string {
  const lines = [style.bold(`journal of ${escapeControls(key)}`)]
  const one = (value: unknown): string => jsonText(value)
  if (Array.isArray(journal)) {
    journal.forEach((record, i) => lines.push(`  ${style.dim(`#${i + 1}`)} ${one(record)}`))
    if (journal.length === 0) lines.push(style.dim('  (no records)'))
  } else if (journal !== null && typeof journal === 'object') {
    for (const [name, value] of Object.entries(journal)) {
      if (Array.isArray(value)) {
        lines.push(`${escapeControls(name)} (${value.length}):`)
        value.forEach((record, i) => lines.push(`  ${style.dim(`#${i + 1}`)} ${one(record)}`))
      } else {
        lines.push(`${escapeControls(name)}: ${one(value)}`)
      }
    }
  } else {
    lines.push(`  ${one(journal)}`)
  }
  return `${lines.join('\n')}\n`
}

/** An error from the gateway, one line. */
export function formatRemoteError(raw: RemoteErrorBody): string {
  const body = forTerminal(raw)
  const name = body.name ? `${body.name}: ` : ''
  const actor = body.actor ? ` (${body.actor})` : ''
  return `${body.kind}: ${name}${body.message}${actor}`
}
