/**
 * Plain-text tables for the CLI's human output: a header row, columns two
 * spaces apart, text left-aligned and numbers right-aligned, no trailing
 * spaces. Machine output is --json, never these tables.
 */

export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => rows.reduce((w, row) => Math.max(w, width(row[i] ?? '')), width(c.header)));
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const fill = ' '.repeat(widths[i] - width(cell));
        return c.align === 'right' ? fill + cell : cell + fill;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join('\n');
}

/**
 * A key or value as a table cell: as is when that is unambiguous, else
 * JSON-quoted (control or invisible characters, a double quote, leading or
 * trailing spaces, the empty string), so that one cell stays one line.
 */
export function displayText(s: string): string {
  return s === '' || s !== s.trim() || /[\p{C}"]/u.test(s) ? JSON.stringify(s) : s;
}

/** Width in code points: close enough for keys, which are mostly ASCII. */
function width(s: string): number {
  return [...s].length;
}
