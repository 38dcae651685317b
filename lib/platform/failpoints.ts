import 'server-only'
import { getEnv } from '@/lib/env'

// Named places where a chaos test can make this process die on the spot, the way a deploy
// or an OOM kill would: FAILPOINTS=webhook.after_commit. Off unless the variable names them.
export function hit(name: string): void {
  if (getEnv().failpoints.includes(name)) {
    console.error(`failpoint: ${name} — killing process ${process.pid}`)
    process.kill(process.pid, 'SIGKILL')
  }
}
