import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { resetEnv } from '@/lib/env'
import * as mail from '@/lib/mail'

// A mail server that accepts the connection and then says nothing must not hold the sending
// job for nodemailer's default ten minutes: the send fails after the greeting timeout and the
// job queue retries it later.

const sockets = new Set<net.Socket>()
let server: net.Server | undefined
afterEach(async () => {
  for (const socket of sockets) socket.destroy()
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
  delete process.env.SMTP_URL
  resetEnv()
})

describe('mail.send over SMTP', () => {
  it('gives up on a server that never greets instead of waiting for minutes', async () => {
    server = net.createServer((socket) => sockets.add(socket))
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    process.env.SMTP_URL = `smtp://127.0.0.1:${(server.address() as AddressInfo).port}`
    resetEnv()
    await expect(mail.send({ to: 'sam@example.com', subject: 'Hello', html: '<p>Hi</p>', text: 'Hi', id: 'hung-server' })).rejects.toThrow(/greeting|timeout/i)
    expect(sockets.size).toBe(1)
  }, 25_000)
})
