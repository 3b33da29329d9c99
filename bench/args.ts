/**
 * A bench's options, parsed as the raftshard commands parse theirs (strict
 * util.parseArgs, src/cli/args.ts): --help / -h prints the usage and exits 0;
 * a bad option prints the error and the usage and exits 2.
 */
import type { OptionSpec, ParsedArgs } from '../src/cli/args.js';
import { parseCommandArgs, UsageError } from '../src/cli/args.js';

export function benchArgs<O extends OptionSpec>(options: O, usage: string): ParsedArgs<O>['values'] {
  let values: ParsedArgs<O>['values'];
  try {
    values = parseCommandArgs(process.argv.slice(2), options, usage).values;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`bench: ${err.message}\n\n${usage}`);
    process.exit(2);
  }
  if (values.help === true) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}
