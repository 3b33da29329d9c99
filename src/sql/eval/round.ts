/**
 * round(X, N) as SQLite 3.40 computes it (func.c roundFunc): for N = 0,
 * (i64)(x ± 0.5); otherwise printf("%.*f", N, x) read back as a REAL. That
 * printf adds 0.5·10^-N plus a nudge of x·3e-16 (so that 2.675 rounds to 2.68),
 * then truncates, keeping at most 16 significant digits. Here that sum is
 * computed exactly in binary fractions; SQLite uses an 80-bit long double,
 * which can differ only when the sum lies within about 1e-19 of a digit.
 */

/** Beyond 2^52 a double has no fraction, so there is nothing to round. */
const NO_FRACTION = 4503599627370496;
/** printf's digit limit for %f. */
const SIGNIFICANT_DIGITS = 16;
const NUDGE = 3e-16;

export function roundReal(x: number, decimals: number): number {
  if (x < -NO_FRACTION || x > NO_FRACTION) return x;
  if (decimals === 0) return Math.trunc(x + (x < 0 ? -0.5 : 0.5)) + 0; // + 0: (i64) has no -0
  const magnitude = Math.abs(x);
  let terms = [binary(magnitude), rounder(decimals)];
  if (decimals + Math.trunc(binaryExponent(magnitude) / 3) < 15) terms = [...terms, product(binary(magnitude), binary(NUDGE))];
  const sum = add(terms);
  const scaled = (sum.mantissa * 10n ** BigInt(decimals)) >> BigInt(sum.shift);
  const digits = scaled.toString();
  const kept = digits.length > SIGNIFICANT_DIGITS ? digits.slice(0, SIGNIFICANT_DIGITS).padEnd(digits.length, '0') : digits;
  const rounded = Number(`${kept}e-${decimals}`);
  return x < 0 ? -rounded : rounded;
}

/** A non-negative binary fraction: mantissa / 2^shift. */
type Fraction = { readonly mantissa: bigint; readonly shift: number };

/** printf's rounder: arRound[N % 10] (the double 5.0e-(N%10+1)) times 1e-10 for each full ten. */
function rounder(decimals: number): Fraction {
  let r = binary(Number(`5e-${(decimals % 10) + 1}`));
  for (let i = 10; i <= decimals; i += 10) r = product(r, binary(1e-10));
  return r;
}

const view = new DataView(new ArrayBuffer(8));

function rawExponent(x: number): number {
  view.setFloat64(0, x);
  return (view.getUint16(0) >> 4) & 0x7ff;
}

/** The unbiased binary exponent, as printf reads it (-1023 for zero and subnormals). */
function binaryExponent(x: number): number {
  return rawExponent(x) - 1023;
}

/** The exact value of a finite non-negative double. */
function binary(x: number): Fraction {
  view.setFloat64(0, x);
  const fraction = view.getBigUint64(0) & ((1n << 52n) - 1n);
  const raw = rawExponent(x);
  const mantissa = raw === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (raw === 0 ? 1 : raw) - 1075;
  return exponent >= 0 ? { mantissa: mantissa << BigInt(exponent), shift: 0 } : { mantissa, shift: -exponent };
}

function product(a: Fraction, b: Fraction): Fraction {
  return { mantissa: a.mantissa * b.mantissa, shift: a.shift + b.shift };
}

function add(terms: readonly Fraction[]): Fraction {
  const shift = Math.max(...terms.map((t) => t.shift));
  let mantissa = 0n;
  for (const t of terms) mantissa += t.mantissa << BigInt(shift - t.shift);
  return { mantissa, shift };
}
