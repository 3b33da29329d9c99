/**
 * Structured logs (pino) on stderr: readable lines (pino-pretty) when stderr
 * is a terminal, JSON lines otherwise (piped to a file or a collector, or
 * read by `raftshard local`'s tests). RAFTSHARD_LOG_FORMAT=pretty or json
 * overrides the choice; RAFTSHARD_LOG sets the level.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Clock } from './clock.js';

export type { Logger };

export function createLogger(name: string, level = process.env.RAFTSHARD_LOG ?? 'info'): Logger {
  const format = process.env.RAFTSHARD_LOG_FORMAT;
  return pino({ name, level, base: { pid: process.pid } }, destination(format === 'pretty' || (format !== 'json' && process.stderr.isTTY === true)));
}

function destination(terminal: boolean): DestinationStream {
  // In-process and synchronous: a terminal is slow anyway, and a fatal line just before process.exit must not be lost.
  if (terminal) return pretty({ destination: 2, sync: true, colorize: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l' });
  return pino.destination({ dest: 2, sync: false });
}

/** A logger for one process of the simulator: each line carries the simulated time `t` (ms), not the wall clock. */
export function simulatedLogger(name: string, level: string, clock: Clock): Logger {
  return pino({ name, level, base: undefined, timestamp: false, mixin: () => ({ t: clock.monotonic() }) }, destination(process.stderr.isTTY === true));
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
