import type { RejectRecord } from './ports.ts';

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell, safe to open in Excel: a cell starting with =, +, -, @, tab or CR is prefixed with
 * an apostrophe so it shows as text and never runs as a formula (OWASP CSV injection).
 */
export function csvCell(value: string | number): string {
  let s = String(value);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const REJECTS_HEADER = 'line,column,value,reason\r\n';

export function rejectLine(r: RejectRecord): string {
  return `${r.line},${csvCell(r.column)},${csvCell(r.value)},${csvCell(r.reason)}\r\n`;
}

/**
 * The warnings report: rows that were loaded but need a look (today: rows of customers with no
 * master data on file), one line per row, with the same escaping as the rejects report.
 */
export const WARNINGS_HEADER = 'line,column,value,warning\r\n';

/** The report written next to an upload: `invoices/2025-03.csv` -> `invoices/2025-03<suffix>` */
function reportNameFor(name: string, suffix: string): string {
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  return dot > slash + 1 ? `${name.slice(0, dot)}${suffix}` : `${name}${suffix}`;
}

/** `invoices/2025-03.csv` -> `invoices/2025-03.rejects.csv` */
export function rejectsNameFor(name: string): string {
  return reportNameFor(name, '.rejects.csv');
}

/** `invoices/2025-03.csv` -> `invoices/2025-03.warnings.csv` */
export function warningsNameFor(name: string): string {
  return reportNameFor(name, '.warnings.csv');
}

/** One of the reports written next to uploads (never an upload itself). */
export function isReport(name: string): boolean {
  return name.endsWith('.rejects.csv') || name.endsWith('.warnings.csv');
}
