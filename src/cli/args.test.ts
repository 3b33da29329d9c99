/** Option parsing (util.parseArgs, strict) against the commands' own option specs. */
import { describe, expect, it } from 'vitest';
import { DbError } from '../common/index.js';
import { RANGES_HELP } from './admin-commands.js';
import type { OptionSpec } from './args.js';
import { intFlag, parseCommandArgs, UsageError } from './args.js';
import { GATEWAY_OPTIONS } from './gateway-http.js';
import { KV_OPTIONS } from './kv-command.js';
import { LOCAL_HELP, LOCAL_OPTIONS } from './local-command.js';
import { SIM_OPTIONS } from './sim-command.js';

interface Case {
  readonly argv: readonly string[];
  readonly options: OptionSpec;
  /** Whether the command takes positional arguments (the admin and kv commands do). */
  readonly positionals: boolean;
}

const ranges = (...argv: string[]): Case => ({ argv, options: GATEWAY_OPTIONS, positionals: true });
const kv = (...argv: string[]): Case => ({ argv, options: KV_OPTIONS, positionals: true });
const local = (...argv: string[]): Case => ({ argv, options: LOCAL_OPTIONS, positionals: false });
const sim = (...argv: string[]): Case => ({ argv, options: SIM_OPTIONS, positionals: false });

describe('parseCommandArgs', () => {
  it.each<[string, Case, Record<string, unknown>, string[]]>([
    ['nothing', ranges(), {}, []],
    ['a boolean does not take the next word', ranges('--json', 'x'), { json: true }, ['x']],
    ['options and arguments in any order', kv('get', '--json', 'k', '--gateway', 'h:1'), { json: true, gateway: 'h:1' }, ['get', 'k']],
    ['--x=1', local('--port=1'), { port: '1' }, []],
    ['--x 1', local('--port', '1'), { port: '1' }, []],
    ['--x= gives the empty string', local('--dir='), { dir: '' }, []],
    ['--x=a=b keeps everything after the first =', ranges('--gateway=a=b'), { gateway: 'a=b' }, []],
    ['the last of a repeated option wins', local('--port', '1', '--port', '2'), { port: '2' }, []],
    ['-- ends the options', kv('put', '--', '--json', '-1'), {}, ['put', '--json', '-1']],
    ['options before -- still count', kv('--json', 'put', '--', 'k', '--limit'), { json: true }, ['put', 'k', '--limit']],
    ['--help', local('--help'), { help: true }, []],
    ['-h', ranges('-h'), { help: true }, []],
    ['a boolean among string options', sim('--verbose', '--seeds', '5'), { verbose: true, seeds: '5' }, []],
  ])('%s', (_name, c, values, positionals) => {
    const args = parseCommandArgs(c.argv, c.options, 'usage', c.positionals);
    expect({ ...args.values }).toEqual(values);
    expect(args.positionals).toEqual(positionals);
  });

  it.each<[string, Case, RegExp]>([
    ['an unknown option', ranges('--bogus'), /^Unknown option '--bogus'/],
    ['an unknown short option', ranges('-x'), /^Unknown option '-x'/],
    ['an unknown option after arguments', kv('get', 'k', '--verbose'), /^Unknown option '--verbose'/],
    ['an argument starting with "-" before --', ranges('1', '-2'), /^Unknown option '-2'.*after '--'/],
    ['a string option at the end without its value', local('--port'), /'--port <value>' argument missing/],
    ['a string option followed by another option', ranges('--gateway', '--json'), /'--gateway' argument is ambiguous/],
    ['a value given to a boolean', ranges('--json=yes'), /'--json' does not take an argument/],
    ['an argument to a command that takes none', local('8080'), /^Unexpected argument '8080'/],
  ])('%s is a UsageError (a DbError: exit 2) carrying the usage', (_name, c, message) => {
    const usage = c.options === LOCAL_OPTIONS ? LOCAL_HELP : RANGES_HELP;
    let thrown: unknown;
    try {
      parseCommandArgs(c.argv, c.options, usage, c.positionals);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect(thrown).toBeInstanceOf(DbError);
    expect((thrown as UsageError).code).toBe('BAD_REQUEST');
    expect((thrown as UsageError).message).toMatch(message);
    expect((thrown as UsageError).usage).toBe(usage);
  });
});

describe('intFlag', () => {
  it.each<[string | undefined, number, number]>([
    [undefined, 1, 8080],
    ['1', 1, 1],
    ['0', 0, 0],
    ['65535', 1, 65535],
  ])('%s (min %i) is %i', (value, min, expected) => {
    expect(intFlag({ port: value }, 'port', 8080, min)).toBe(expected);
  });

  it.each<[string, number]>([
    ['0', 1],
    ['-1', 0],
    ['1.5', 0],
    ['abc', 0],
    ['', 0],
    [' ', 0],
    ['9007199254740993', 0],
  ])('"%s" with min %i is an error naming the option', (value, min) => {
    expect(() => intFlag({ port: value }, 'port', 8080, min)).toThrow(DbError);
    expect(() => intFlag({ port: value }, 'port', 8080, min)).toThrow(`--port must be an integer >= ${min}`);
  });
});
