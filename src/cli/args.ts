/**
 * Command-line options through Node's `util.parseArgs` in strict mode: each
 * command declares its options; an unknown option, a string option without
 * its value or an argument where none is taken is a UsageError that carries
 * the command's usage text; `--` ends the options; a boolean option never
 * takes the next word; `--name=value` and `--name value` both work; every
 * command gets `--help` / `-h`.
 */
import { parseArgs } from 'node:util';
import { DbError } from '../common/index.js';

/** What a command declares: its long option names, each a string or a boolean, maybe with a one-letter alias. */
export type OptionSpec = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string }>>;

type Values<O extends OptionSpec> = { readonly [K in keyof O]?: O[K]['type'] extends 'string' ? string : boolean } & { readonly help?: boolean };

export interface ParsedArgs<O extends OptionSpec> {
  readonly values: Values<O>;
  readonly positionals: readonly string[];
}

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/** argv that does not fit the command's options; the caller prints the message, then `usage`, and exits 2. */
export class UsageError extends DbError {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super('BAD_REQUEST', message);
  }
}

/** Parses argv against `options` (plus --help/-h); positional arguments are an error unless `allowPositionals`. */
export function parseCommandArgs<O extends OptionSpec>(argv: readonly string[], options: O, usage: string, allowPositionals = false): ParsedArgs<O> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, ...HELP_OPTION }, strict: true, allowPositionals });
    return { values: values as Values<O>, positionals };
  } catch (err) {
    // util.parseArgs reports bad argv as a TypeError coded ERR_PARSE_ARGS_* (unknown option, missing value, unexpected argument).
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) throw new UsageError((err as Error).message, usage);
    throw err;
  }
}

/** The integer value of a string option, `fallback` when it is absent. */
export function intFlag<K extends string>(values: { readonly [P in NoInfer<K>]?: string }, name: K, fallback: number, min = 0): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new DbError('BAD_REQUEST', `--${name} must be an integer >= ${min}`);
  return n;
}
