import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { describe, expect, test } from 'vitest'
import { runSeed } from '../../sim/run.ts'

const root = join(import.meta.dirname, '..', '..')

/** Where the real clock, timers and randomness may be touched: the injected sources and platform adapters. */
const excluded = [
  'runtime/clock.ts', // systemClock: the one place that reads the real clock and sets real timers
  'runtime/random.ts', // systemRandom: the one place that draws real randomness
  'runtime/node/', 'runtime/web/', // platform adapters
  // Node adapters for the CLI and the HTTP gateway: they serve real clients on real time (request
  // timings, rate windows, idle timers, Date headers) and never run inside the simulation.
  'runtime/cli/', 'runtime/gateway/',
  'transport/node-endpoint.ts', // Node worker_threads adapter
]

/**
 * Offenders found in core code, each with the reason it is tolerated for now. Empty: none today.
 * An entry is `path:line identifier`, e.g. 'runtime/foo.ts:12 Date.now'.
 */
const allowlist: ReadonlySet<string> = new Set<string>([])

const globalTimers = new Set(['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate'])
const bannedMembers = new Set(['Date.now', 'Math.random', 'performance.now', 'crypto.getRandomValues', 'crypto.randomUUID'])

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : []
  })
}

/** A journal backend that imports a `node:` module is a platform file backend (it needs fs). */
function isPlatformBackend(path: string, text: string): boolean {
  return path.startsWith('runtime/journal/') && /from ['"]node:/.test(text)
}

/** Every use of the real clock, timers or randomness in one file, as `path:line identifier`. */
function offenders(path: string, text: string): string[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const at = (node: ts.Node, what: string): void => {
    found.push(`${path}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1} ${what}`)
  }
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node)) {
      const text = node.getText(file).replace(/\s/g, '')
      if (bannedMembers.has(text)) at(node, text)
      if (/^globalThis\.(setTimeout|setInterval|setImmediate)$/.test(text)) at(node, text)
    } else if (ts.isIdentifier(node) && globalTimers.has(node.text) && isValueReference(node)) {
      at(node, node.text)
    } else if (ts.isNewExpression(node) && node.expression.getText(file) === 'Date' && (node.arguments?.length ?? 0) === 0) {
      at(node, 'new Date()')
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  return found
}

/** True when the identifier names the global (a call or a value), not a property, method or declaration. */
function isValueReference(node: ts.Identifier): boolean {
  const parent = node.parent
  if (ts.isPropertyAccessExpression(parent) && parent.name === node) return false
  if ((ts.isMethodDeclaration(parent) || ts.isMethodSignature(parent) || ts.isPropertySignature(parent) ||
    ts.isPropertyDeclaration(parent) || ts.isPropertyAssignment(parent)) && parent.name === node) return false
  if (ts.isVariableDeclaration(parent) || ts.isParameter(parent) || ts.isFunctionDeclaration(parent)) return parent.name !== node
  return true
}

describe('determinism', () => {
  test('no Date.now, timers, Math.random or performance.now reach runtime/, actors/ or transport/ except through the injected clock and random', () => {
    const files = ['runtime', 'actors', 'transport'].flatMap(sourceFiles).filter((path) => !excluded.some((e) => path === e || path.startsWith(e)))
    const found = files.flatMap((path) => {
      const text = readFileSync(join(root, path), 'utf8')
      return isPlatformBackend(path, text) ? [] : offenders(relative(root, join(root, path)), text)
    })
    expect(files.length).toBeGreaterThan(20)
    expect(found.filter((o) => !allowlist.has(o))).toEqual([])
  })

  test('the scan catches each forbidden use (self-test)', () => {
    const planted = 'const a = Date.now(); const b = Math.random(); setTimeout(f, 1); const c = performance.now(); const d = new Date(); schedule(setImmediate); clock.setTimeout(f, 1)'
    expect(offenders('x.ts', planted).map((o) => o.split(' ')[1])).toEqual(['Date.now', 'Math.random', 'setTimeout', 'performance.now', 'new', 'setImmediate'])
    expect(offenders('y.ts', 'class C { setTimeout(fn: () => void) { return this.clock.setTimeout(fn, 1) } }')).toEqual([])
  })

  test('the same seed gives a byte-identical trace, twice', async () => {
    for (const seed of [7, 1234]) {
      const a = await runSeed({ seed, keepTrace: true })
      const b = await runSeed({ seed, keepTrace: true })
      expect(a.traceLines.length).toBeGreaterThan(100)
      expect(b.traceLines.join('\n')).toBe(a.traceLines.join('\n'))
      expect(b.traceDigest).toBe(a.traceDigest)
    }
  })

  test('different seeds give different traces', async () => {
    const digests = new Set<string>()
    for (let seed = 1; seed <= 10; seed++) digests.add((await runSeed({ seed })).traceDigest)
    expect(digests.size).toBe(10)
  })

  test('the same seed replays the same trace under the full fault profile (crashes, duplication, retries)', async () => {
    const a = await runSeed({ seed: 99, profile: 'full' })
    const b = await runSeed({ seed: 99, profile: 'full' })
    expect(b.traceDigest).toBe(a.traceDigest)
  })
})
