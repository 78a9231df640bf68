/**
 * The rows a terminal shows after it was sent `text`, for tests of what a person sees: `\r` goes
 * back to the start of the row, `ESC[K` erases from the cursor to the end of the row, `\n` ends the
 * row, any other character is written over what is under the cursor. The row still open at the end
 * (a live status line, not ended by `\n`) is left out. Other escapes and line wrapping are not
 * modelled: the display code uses neither.
 */
export function screenRows(text: string): string[] {
  const rows: string[] = [];
  let row = '';
  let col = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (text.startsWith('\u001b[K', i)) {
      row = row.slice(0, col);
      i += 2;
    } else if (c === '\r') {
      col = 0;
    } else if (c === '\n') {
      rows.push(row);
      row = '';
      col = 0;
    } else {
      row = row.slice(0, col) + c + row.slice(col + 1);
      col++;
    }
  }
  return rows;
}
