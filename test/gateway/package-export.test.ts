/** `troupe/gateway`: the HTTP gateway put in front of a Cluster started in the same process, through the package's exports. */
import { expect, test } from 'vitest'
import { Cluster } from 'troupe'
import { startGateway } from 'troupe/gateway'

test('startGateway from troupe/gateway serves a Cluster from troupe over HTTP, with typed errors', async () => {
  const cluster = await Cluster.start({ actors: new URL('../fixtures/actors.ts', import.meta.url), hosts: 2 })
  const gateway = await startGateway(cluster, { port: 0, host: '127.0.0.1' })
  try {
    const post = async (path: string, body: string): Promise<{ status: number; body: unknown }> => {
      const response = await fetch(`${gateway.url}${path}`, { method: 'POST', body })
      return { status: response.status, body: await response.json() }
    }
    expect(await post('/actors/Counter/gw/increment', '[4]')).toEqual({ status: 200, body: 4 })
    expect(await cluster.actor<{ get(): Promise<number> }>('Counter', 'gw').get()).toBe(4)
    const unknown = await post('/actors/Nope/gw/get', '[]')
    expect(unknown.status).toBe(404)
    expect(unknown.body).toMatchObject({ kind: 'UnknownActorType' })
    expect((await post('/actors/Counter/gw/increment', '{not json')).status).toBe(400)
  } finally {
    await gateway.close()
    await cluster.stop()
  }
})
