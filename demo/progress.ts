/**
 * A progress bar for the demo: redrawn in place on a terminal, a line every quarter otherwise.
 * Colors follow the CLI's rules (NO_COLOR, FORCE_COLOR, terminal or not).
 */
import type { Style } from '../runtime/cli/format.ts'

export class ProgressBar {
  private readonly total: number
  private readonly style: Style
  private readonly out: NodeJS.WriteStream
  private readonly inPlace: boolean
  private readonly startedMs = performance.now()
  private lastQuarter = 0
  private lastDrawMs = 0
  private done = 0

  constructor(total: number, out: NodeJS.WriteStream, style: Style) {
    this.total = total
    this.out = out
    this.style = style
    this.inPlace = out.isTTY === true
  }

  /** A line printed above the bar (e.g. "host-2 killed"). */
  mark(note: string): void {
    if (!this.inPlace) {
      this.out.write(`  ${this.style.yellow(note)}\n`)
      return
    }
    this.out.write(`\r\x1b[K  ${this.style.yellow(note)}\n`)
    this.update(this.done, true)
  }

  update(done: number, force = false): void {
    this.done = done
    const now = performance.now()
    if (this.inPlace) {
      if (!force && now - this.lastDrawMs < 80) return
      this.lastDrawMs = now
      this.out.write(`\r${this.line(done, now)}\x1b[K`)
      return
    }
    const quarter = Math.floor((done / this.total) * 4)
    if (quarter > this.lastQuarter || (force && done === this.total && this.lastQuarter < 4)) {
      this.lastQuarter = Math.max(quarter, this.lastQuarter)
      this.out.write(`${this.line(done, now)}\n`)
    }
  }

  finish(done: number): void {
    this.update(done, true)
    if (this.inPlace) this.out.write('\n')
  }

  private line(done: number, now: number): string {
    const width = 30
    const filled = Math.round((done / this.total) * width)
    const bar = this.style.green('█'.repeat(filled)) + this.style.dim('░'.repeat(width - filled))
    const seconds = (now - this.startedMs) / 1000
    const rate = seconds > 0 ? Math.round(done / seconds) : 0
    const pct = `${Math.floor((done / this.total) * 100)}%`.padStart(4)
    return `  ${bar} ${pct}  ${done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} calls  ${rate.toLocaleString('en-US')}/s`
  }
}
