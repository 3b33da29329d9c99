import { describe, expect, it } from 'vitest';
import { displayText, formatTable } from './table.js';

describe('formatTable', () => {
  it('aligns text left and numbers right, two spaces apart, without trailing spaces', () => {
    const out = formatTable(
      [{ header: 'ID', align: 'right' }, { header: 'NAME' }, { header: 'BYTES', align: 'right' }],
      [
        ['1', 'a', '10'],
        ['12', 'longer name', '3'],
      ],
    );
    expect(out.split('\n')).toEqual([
      'ID  NAME         BYTES', //
      ' 1  a               10',
      '12  longer name      3',
    ]);
  });

  it('prints the header alone when there are no rows', () => {
    expect(formatTable([{ header: 'KEY' }, { header: 'VALUE' }], [])).toBe('KEY  VALUE');
  });

  it('measures width in code points, not UTF-16 units', () => {
    expect(formatTable([{ header: 'K' }, { header: 'V' }], [['𝔸', 'x'], ['ab', 'y']]).split('\n')).toEqual(['K   V', '𝔸   x', 'ab  y']);
  });

  it('treats missing cells as empty', () => {
    expect(formatTable([{ header: 'A' }, { header: 'B' }], [['x']])).toBe('A  B\nx');
  });
});

describe('displayText', () => {
  it.each([
    ['plain', 'plain'],
    ['with inner space', 'with inner space'],
    ['ключ', 'ключ'],
    ['', '""'],
    [' lead', '" lead"'],
    ['trail ', '"trail "'],
    ['two\nlines', '"two\\nlines"'],
    ['tab\there', '"tab\\there"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['zero\u200bwidth', '"zero\u200bwidth"'],
  ])('%j is shown as %s', (input, shown) => {
    expect(displayText(input)).toBe(shown);
  });
});
