/** A cell: text, and how to style it once padded (colours must not count in the width). */
export type Cell = string | { text: string; style: (text: string) => string };

const textOf = (cell: Cell): string => (typeof cell === 'string' ? cell : cell.text);

/**
 * Rows aligned in columns two spaces apart; the last column is not padded. Widths count
 * characters, so styling applied after padding keeps the columns straight.
 */
export function alignColumns(rows: readonly (readonly Cell[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...textOf(cell)].length)));
  return rows.map((row) =>
    row
      .map((cell, i) => {
        const text = textOf(cell);
        const padded = i === row.length - 1 ? text : text + ' '.repeat((widths[i] ?? 0) - [...text].length);
        return typeof cell === 'string' || padded.trim() === '' ? padded : cell.style(padded);
      })
      .join('  ')
      .trimEnd(),
  );
}
