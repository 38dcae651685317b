import 'server-only'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import nodemailer from 'nodemailer'
import { getEnv } from '@/lib/env'

// Mail goes over SMTP when SMTP_URL is set; otherwise each message is written as an .eml
// file under STORAGE_DIR/mail/, which is what development, the demo and tests read.

export type Message = { to: string; subject: string; html: string; text: string; id: string }

export async function send(message: Message): Promise<{ file?: string; messageId?: string }> {
  const env = getEnv()
  const envelope = { from: env.mailFrom, to: message.to, subject: message.subject, html: message.html, text: message.text }
  if (env.smtpUrl) {
    // Sending runs inside a job that holds its claim while it waits: nodemailer's defaults
    // (2 min to connect, 10 min of socket silence) would let a hung mail server keep the job,
    // and every job queued behind it, for minutes. A failed send is retried by the queue.
    // Timeouts written in SMTP_URL's query string still win over these.
    const info = await nodemailer.createTransport({ url: env.smtpUrl, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 }).sendMail(envelope)
    return { messageId: info.messageId }
  }
  const info = await nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }).sendMail(envelope)
  const dir = path.join(/*turbopackIgnore: true*/ env.storageDir, 'mail')
  fs.mkdirSync(dir, { recursive: true })
  // Named by a stable id, written whole then renamed: a retried job overwrites, never duplicates.
  const safeId = message.id.replace(/[^A-Za-z0-9_.-]/g, '_')
  const file = path.join(/*turbopackIgnore: true*/ dir, `${safeId}.eml`)
  const tmp = `${file}.${crypto.randomBytes(4).toString('hex')}.tmp`
  fs.writeFileSync(tmp, info.message as Buffer)
  fs.renameSync(tmp, file)
  return { file, messageId: info.messageId }
}

/** Text made safe to put in an email's HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

