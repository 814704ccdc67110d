/**
 * Second build step (after tsc): bundles the runtime with esbuild so a host worker loads a few
 * files instead of ~60 modules, which is most of its cold start.
 *
 * Two entry points share one chunk, so the public API (dist/bundle/troupe.js, re-exported by
 * dist/index.js, which is what `import 'troupe'` loads) and the host worker
 * (dist/bundle/host-worker.js) run the same module instances of Actor, the registries and the
 * brands in a worker. tsc still emits dist/ (types, the CLI, the demo).
 */
import { build } from 'esbuild'
import { rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const outdir = `${root}dist/bundle`

rmSync(outdir, { recursive: true, force: true })
const common = {
  absWorkingDir: root,
  outdir,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // hash-wasm's ESM build, so only xxhash64 is bundled (its UMD build carries every algorithm).
  mainFields: ['module', 'main'],
  // tsx is loaded only for TypeScript actor modules, from node_modules as a whole package.
  external: ['tsx', 'tsx/*'],
  chunkNames: 'chunks/[name]-[hash]',
  // A third less for V8 to scan in every new worker (~3 ms); names stay, so do actor types.
  minifyWhitespace: !process.env.TROUPE_BUNDLE_READABLE, // readable: for profiling
  sourcemap: true,
  logLevel: 'warning',
}
await build({
  ...common,
  entryPoints: { troupe: 'index.ts', 'host-worker': 'runtime/node/host-worker.ts' },
  splitting: true,
})
// The gateway on its own (its own copy of what it uses: errors cross as { kind, message } data
// anyway): split with the two above, it broke their shared chunk in four, one more file for
// every host worker's start.
await build({ ...common, entryPoints: { gateway: 'runtime/gateway/server.ts' }, splitting: false })

// `import 'troupe'` and the worker must reach the same chunk: the package entry re-exports the
// bundle rather than tsc's module graph.
writeFileSync(`${root}dist/index.js`, "export * from './bundle/troupe.js'\n")
// `troupe/gateway`: the HTTP gateway, node:http only for those who import it.
writeFileSync(`${root}dist/gateway.js`, "export * from './bundle/gateway.js'\n")
rmSync(`${root}dist/index.js.map`, { force: true })

// esbuild renames a top-level binding on a name clash, and lowers some classes `X` to `_X`; an
// actor type defaults to its class name, so each exported actor class must keep its type.
const api = await import(`${outdir}/troupe.js`)
for (const [name, value] of Object.entries(api)) {
  if (api.isActorClass(value) && api.actorTypeOf(value) !== name) {
    throw new Error(`bundle: actor class ${name} has the type ${api.actorTypeOf(value)} in dist/bundle/troupe.js`)
  }
}
