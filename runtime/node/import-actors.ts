const typeScript = /\.(c|m)?tsx?$/

/**
 * Imports the user's actors module. TypeScript goes through tsx's hooks (Node 20 cannot
 * `--import tsx` in workers), registered for the whole worker rather than in a tsImport namespace:
 * a namespace would load the module's `import 'troupe'` as a second copy of troupe beside the
 * worker's own. JavaScript needs no tsx, and does not load it.
 */
export async function importActors(url: string): Promise<Record<string, unknown>> {
  if (typeScript.test(new URL(url).pathname)) {
    const { register } = await import('tsx/esm/api')
    register()
  }
  return (await import(url)) as Record<string, unknown>
}
