/**
 * results.tsv of a report folder (SPEC §5, seed 003): one row per check, in report order.
 */
import type { Check, Report } from '../../contracts/generated/report.ts';

/** The TSV columns, in order; also the header row. */
export const RESULTS_TSV_COLUMNS = [
  'check_id',
  'lane',
  'required',
  'status',
  'duration_ms',
  'description',
  'log_path',
  'detail',
] as const satisfies readonly (keyof Check)[];

export type ResultsTsvColumn = (typeof RESULTS_TSV_COLUMNS)[number];
export type ResultsTsvRow = Record<ResultsTsvColumn, string>;

/** The exact header row of results.tsv (SPEC §5). */
export const RESULTS_TSV_HEADER = RESULTS_TSV_COLUMNS.join('\t');

/**
 * Escapes one value (SPEC §5): backslash → `\\`, tab → `\t`, newline → `\n`; a carriage
 * return also becomes `\r` so no value can end a row early.
 */
export function escapeTsvValue(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (char) => {
    switch (char) {
      case '\\':
        return '\\\\';
      case '\t':
        return '\\t';
      case '\n':
        return '\\n';
      default:
        return '\\r';
    }
  });
}

/**
 * The inverse of {@link escapeTsvValue}; an unknown escape keeps its character.
 * @see SPEC §5
 */
export function unescapeTsvValue(value: string): string {
  return value.replace(/\\(.)/gs, (_match, char: string) => {
    switch (char) {
      case 't':
        return '\t';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      default:
        return char;
    }
  });
}

/**
 * results.tsv text (SPEC §5): the header row
 * `check_id\tlane\trequired\tstatus\tduration_ms\tdescription\tlog_path\tdetail`, then one
 * escaped row per check, each line ending with `\n`.
 */
export function renderResultsTsv(report: Pick<Report, 'checks'>): string {
  const lines = [RESULTS_TSV_HEADER];
  for (const check of report.checks) {
    lines.push(RESULTS_TSV_COLUMNS.map((column) => escapeTsvValue(String(check[column]))).join('\t'));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Parses results.tsv back into unescaped rows; throws on a wrong header or column count.
 * @see SPEC §5
 */
export function parseResultsTsv(text: string): ResultsTsvRow[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines[0] !== RESULTS_TSV_HEADER) {
    throw new Error(`results.tsv: expected header ${JSON.stringify(RESULTS_TSV_HEADER)}, got ${JSON.stringify(lines[0] ?? '')}`);
  }
  return lines.slice(1).map((line, index) => {
    const values = line.split('\t');
    if (values.length !== RESULTS_TSV_COLUMNS.length) {
      throw new Error(`results.tsv line ${index + 2}: expected ${RESULTS_TSV_COLUMNS.length} columns, got ${values.length}`);
    }
    const row = {} as ResultsTsvRow;
    RESULTS_TSV_COLUMNS.forEach((column, i) => {
      row[column] = unescapeTsvValue(values[i] ?? '');
    });
    return row;
  });
}
