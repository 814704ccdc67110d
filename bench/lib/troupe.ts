/**
 * The built runtime (dist/), as users run it. Benchmarks import troupe from here rather than
 * from the sources: tsx's transform keeps function names with a `__name(fn)` call wherever a
 * closure is created, which lands on hot paths (checkPayload's inner closure showed up as ~7%
 * of the client's profile). Types still come from the sources, so typechecking needs no build.
 */
import type * as Troupe from '../../index.ts'

const distIndex = new URL('../../dist/index.js', import.meta.url).href

/** troupe's public API, loaded from dist/ (run `npm run build` first). */
export const troupe = (await import(distIndex)) as typeof Troupe
