const typeScript = /\.(c|m)?tsx?$/

/** Imports the user's actors module: TypeScript through tsx's `tsImport` (Node 20 cannot `--import tsx` in workers). */
export async function importActors(url: string): Promise<Record<string, unknown>> {
  const path = new URL(url).pathname
  if (typeScript.test(path)) {
    const { tsImport } = await import('tsx/esm/api')
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>
  }
  return (await import(url)) as Record<string, unknown>
}
