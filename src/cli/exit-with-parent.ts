/**
 * A child of `raftshard local` exits when its supervisor is gone (killed with
 * -9, say), instead of lingering as an orphan that holds the ports and the
 * data directory's lock.
 */
import { systemTimers } from '../runtime/index.js';

export function exitWithParent(): void {
  if (process.env.RAFTSHARD_SUPERVISOR_PID === undefined) return;
  const supervisor = Number(process.env.RAFTSHARD_SUPERVISOR_PID);
  systemTimers
    .setInterval(() => {
      try {
        process.kill(supervisor, 0);
      } catch {
        process.exit(0);
      }
    }, 500)
    .unref();
}

/**
 * Tells the supervisor, if there is one, that this child serves: a message on
 * the IPC channel it was started with (never a line of output to scan), and
 * the line for humans.
 */
export function announceReady(line: string): void {
  console.log(line);
  if (!process.send) return;
  process.send({ kind: 'ready' });
  // The channel must not keep a child alive that is otherwise done.
  process.channel?.unref();
}
