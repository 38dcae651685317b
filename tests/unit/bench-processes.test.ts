import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { expect, test } from 'vitest'
import { otherNextServers } from '../../bench/lib/processes'

// The bench names the Next servers already running when it starts, because they take CPU from
// every row it measures. A process titled as Next titles its server is found; once gone, it is not.
test('otherNextServers finds a process titled next-server, and forgets it once it exits', async () => {
  const child = spawn(process.execPath, ['-e', "process.title = 'next-server (v0-bench-test)'; console.log('up'); setInterval(() => {}, 1000)"], { stdio: ['ignore', 'pipe', 'inherit'] })
  await once(child.stdout!, 'data')
  expect(otherNextServers()).toContain(child.pid)
  child.kill('SIGKILL')
  await once(child, 'exit')
  expect(otherNextServers()).not.toContain(child.pid)
})
