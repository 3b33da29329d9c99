/** A broken invariant: the process must stop rather than continue on bad state. */
export class AssertionFailed extends Error {
  override readonly name = 'AssertionFailed';
}

export function assert(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new AssertionFailed(typeof message === 'string' ? message : message());
}

export function assertNever(x: never, what = 'value'): never {
  throw new AssertionFailed(`unexpected ${what}: ${JSON.stringify(x)}`);
}
