/**
 * `raftshard kv get|put|del|scan`: key-value access through a gateway
 * (CONTRACT.md §2.1). Keys travel URL-encoded in the path.
 */
import type { OptionSpec, ParsedArgs } from './args.js';
import { intFlag } from './args.js';
import { expectArgs, GATEWAY_OPTIONS, GATEWAY_OPTIONS_HELP, gatewayOptions, printGatewayCall, usageError } from './gateway-http.js';
import { displayText, formatTable } from './table.js';

export const KV_HELP = `Usage: raftshard kv get KEY
       raftshard kv put KEY VALUE
       raftshard kv del KEY
       raftshard kv scan [START] [END] [--limit N]

get   prints the value; an absent key is an error (exit 1)
put   sets KEY to VALUE and prints OK
del   deletes KEY and says whether it was there
scan  prints the keys from START (inclusive) to END (exclusive) in byte order
      with their values; "" or an omitted bound is unbounded. Keys and values
      with spaces at the ends, quotes or control characters are shown
      JSON-quoted.

A key or value that starts with "-" goes after "--", which ends the options:
  raftshard kv put -- -k -1

Options:
${GATEWAY_OPTIONS_HELP}
  --limit N      scan: at most N keys (1..10000, default 1000)`;

export const KV_OPTIONS = { ...GATEWAY_OPTIONS, limit: { type: 'string' } } as const satisfies OptionSpec;

interface ScanAnswer {
  readonly items?: readonly { readonly key: string; readonly value: string }[];
  readonly more?: boolean;
}

export async function kvCommand(args: ParsedArgs<typeof KV_OPTIONS>): Promise<number> {
  const [sub, ...rest] = args.positionals;
  if (sub !== 'scan' && args.values.limit !== undefined) throw usageError('kv', '--limit applies only to kv scan');
  const opts = gatewayOptions(args.values, 'kv');
  switch (sub) {
    case 'get': {
      const [key] = expectArgs(rest, 'kv get KEY', 1, 1);
      return printGatewayCall(opts, 'GET', keyPath(key), undefined, (body) => String((body as { value?: unknown } | null)?.value ?? ''));
    }
    case 'put': {
      const [key, value] = expectArgs(rest, 'kv put KEY VALUE', 2, 2);
      return printGatewayCall(opts, 'PUT', keyPath(key), { value }, () => 'OK');
    }
    case 'del': {
      const [key] = expectArgs(rest, 'kv del KEY', 1, 1);
      return printGatewayCall(opts, 'DELETE', keyPath(key), undefined, (body) => ((body as { deleted?: unknown } | null)?.deleted === true ? 'deleted' : 'not found, nothing deleted'));
    }
    case 'scan': {
      const [start = '', end = ''] = expectArgs(rest, 'kv scan [START] [END] [--limit N]', 0, 2);
      const query = [`start=${encodeURIComponent(start)}`, `end=${encodeURIComponent(end)}`];
      if (args.values.limit !== undefined) query.push(`limit=${intFlag(args.values, 'limit', 1000, 1)}`);
      return printGatewayCall(opts, 'GET', `/kv?${query.join('&')}`, undefined, (body) => scanTable((body ?? {}) as ScanAnswer));
    }
    default:
      throw usageError('kv', sub === undefined ? 'kv needs a subcommand: get, put, del or scan' : `unknown kv subcommand "${sub}"`);
  }
}

function keyPath(key: string): string {
  if (key === '') throw usageError('kv', 'KEY must not be empty');
  return `/kv/${encodeURIComponent(key)}`;
}

/** KEY VALUE rows, then a count, like psql's "(n rows)", saying when more keys follow. */
function scanTable(answer: ScanAnswer): string {
  const items = answer.items ?? [];
  const table = formatTable(
    [{ header: 'KEY' }, { header: 'VALUE' }],
    items.map((it) => [displayText(it.key), displayText(it.value)]),
  );
  const count = `(${items.length} key${items.length === 1 ? '' : 's'}`;
  return `${table}\n${count}${answer.more === true ? '; more follow: raise --limit or scan on from after the last key)' : ')'}`;
}
