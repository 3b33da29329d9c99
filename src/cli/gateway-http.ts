/**
 * How the admin and kv commands talk to a gateway: the options they share
 * (--gateway URL or RAFTSHARD_GATEWAY, --json), one JSON request answered as
 * {status, body}, and the output they share: the body as is with --json, an
 * error body {"error","code"} as "raftshard: <error> (<code>)" with exit 1.
 * Usage errors are DbErrors (exit 2); an unreachable gateway is a
 * GatewayUnreachableError naming the URL (exit 1).
 *
 * node:http rather than fetch: fetch parses URLs the WHATWG way, which turns a
 * path segment "." or ".." (even written %2E%2E) into a step up the path, so
 * the keys "." and ".." could not be addressed as /kv/{key}.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DbError } from '../common/index.js';
import type { OptionSpec } from './args.js';

export const DEFAULT_GATEWAY = 'http://127.0.0.1:8080';

/** The options every command against a gateway takes. */
export const GATEWAY_OPTIONS = { gateway: { type: 'string' }, json: { type: 'boolean' } } as const satisfies OptionSpec;

export const GATEWAY_OPTIONS_HELP = `  --gateway URL  the gateway (default: $RAFTSHARD_GATEWAY, else ${DEFAULT_GATEWAY})
  --json         print the gateway's JSON answer as is, on one line`;

export interface GatewayOptions {
  readonly url: URL;
  readonly json: boolean;
}

export interface GatewayResponse {
  readonly status: number;
  /** The parsed JSON body; null when the body is empty. */
  readonly body: unknown;
}

/** The gateway could not be reached, or the connection broke before its answer was complete. */
export class GatewayUnreachableError extends Error {
  override name = 'GatewayUnreachableError';
}

/** The gateway URL (--gateway, else $RAFTSHARD_GATEWAY, else the default) and --json. */
export function gatewayOptions(values: { readonly gateway?: string; readonly json?: boolean }, command: string): GatewayOptions {
  return { url: gatewayUrl(values.gateway ?? (process.env.RAFTSHARD_GATEWAY || DEFAULT_GATEWAY), command), json: values.json === true };
}

/** The positional arguments, checked against a usage line such as "move RANGE FROM TO". */
export function expectArgs(positional: readonly string[], usage: string, min: number, max: number): readonly string[] {
  if (positional.length < min || positional.length > max) throw usageError(usage.split(' ')[0], `usage: raftshard ${usage}`);
  return positional;
}

export function usageError(command: string, detail: string): DbError {
  return new DbError('BAD_REQUEST', `${detail} (run "raftshard ${command} --help")`);
}

/**
 * Sends one request and prints the answer: with --json the body as is, else
 * render(body); an error answer goes to stderr. Returns the exit code.
 */
export async function printGatewayCall(opts: GatewayOptions, method: string, path: string, body: unknown, render: (body: unknown) => string): Promise<number> {
  const res = await callGateway(opts.url, method, path, body);
  if (res.status < 200 || res.status >= 300) {
    console.error(`raftshard: ${errorMessage(res)}`);
    return 1;
  }
  console.log(opts.json ? JSON.stringify(res.body) : render(res.body));
  return 0;
}

/** One request; `path` is already URL-encoded and is sent exactly as given, after the base URL's own path. */
export function callGateway(base: URL, method: string, path: string, body?: unknown): Promise<GatewayResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  const send = base.protocol === 'https:' ? httpsRequest : httpRequest;
  const target = {
    protocol: base.protocol,
    hostname: base.hostname.replace(/^\[|\]$/g, ''),
    port: base.port,
    path: base.pathname.replace(/\/+$/, '') + path,
    method,
    headers,
  };
  return new Promise((resolve, reject) => {
    const req = send(target, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (err) => reject(new GatewayUnreachableError(`the connection to the gateway at ${base.href} broke before its answer was complete: ${describe(err)}`)));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim() === '') return resolve({ status, body: null });
        try {
          resolve({ status, body: JSON.parse(text) });
        } catch {
          reject(new Error(`the gateway at ${base.href} answered HTTP ${status} with a body that is not JSON: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('error', (err) => reject(new GatewayUnreachableError(`cannot reach the gateway at ${base.href}: ${describe(err)} (is it running? set --gateway URL or RAFTSHARD_GATEWAY)`)));
    req.end(payload);
  });
}

/** A URL from a flag or the environment; "host:port" alone means http://host:port. */
function gatewayUrl(text: string, command: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw usageError(command, `the gateway URL "${text}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(command, `the gateway URL "${text}" must be http:// or https://`);
  return url;
}

function errorMessage(res: GatewayResponse): string {
  const b = res.body as { error?: unknown; code?: unknown } | null;
  if (typeof b?.error !== 'string') return `the gateway answered HTTP ${res.status}`;
  return typeof b.code === 'string' ? `${b.error} (${b.code})` : b.error;
}

/** The errno code when there is one (ECONNREFUSED, ENOTFOUND...): shorter and clearer than the message. */
function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ?? (err.message || String(err));
}
