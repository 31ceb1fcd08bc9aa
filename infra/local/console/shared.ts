import type { IncomingMessage } from 'node:http';
import { type IsoDate, parseDate } from '../../../functions/core/dates.ts';
import { formatMinor, groupDigits } from '../../../functions/core/money.ts';
import { type Html, html, page, type Section } from './layout.ts';
import { DEFAULT_RUNS, MAX_RUNS } from './options.ts';

// ---------------------------------------------------------------------------------------------
// Formatting

/** "1234567.50" -> "1,234,567.50" (display only; the JSON keeps the plain decimal). */

export const isZero = (decimal: string) => /^-?0*(\.0*)?$/.test(decimal);

/** An amount cell: right-aligned, grouped, with its currency; red when `late` and not zero. */
export function amountCell(decimal: string | undefined, currency: string, late = false): Html {
  if (decimal === undefined) return html`<td class="num muted">—</td>`;
  const cls = isZero(decimal) ? 'num zero' : late ? 'num late' : 'num';
  return html`<td class="${cls}">${groupDigits(decimal)} <span class="ccy">${currency}</span></td>`;
}

export const minorCell = (minor: number, currency: string, late = false) =>
  amountCell(formatMinor(minor, currency), currency, late);

export const money = (minor: number, currency: string) =>
  html`${groupDigits(formatMinor(minor, currency))} <span class="ccy">${currency}</span>`;

export const numCell = (n: number | null | undefined, late = false) =>
  n === null || n === undefined
    ? html`<td class="num muted">—</td>`
    : html`<td class="${late && n > 0 ? 'num late' : 'num'}">${n.toLocaleString('en-US')}</td>`;

/** "2025-03-31T09:00:00.000Z" -> "2025-03-31 09:00:00 UTC" */
export function instant(iso: string | undefined): string {
  if (!iso) return '—';
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

export const customerHref = (id: string, asOf: IsoDate) =>
  `/customers/${encodeURIComponent(id)}?asOf=${encodeURIComponent(asOf)}`;
export const runHref = (id: string) => `/runs/${encodeURIComponent(id)}`;

// ---------------------------------------------------------------------------------------------
// Replies

export interface Reply {
  readonly status: number;
  readonly type: 'html' | 'json' | 'text';
  readonly body: string;
  readonly headers?: Record<string, string>;
}

export const CONTENT_TYPES = {
  html: 'text/html; charset=utf-8',
  json: 'application/json; charset=utf-8',
  text: 'text/plain; charset=utf-8',
} as const;

export const htmlReply = (status: number, title: string, body: Html, active: Section = '') => ({
  status,
  type: 'html' as const,
  body: page(title, body, active),
});

export const jsonReply = (status: number, value: unknown): Reply => ({
  status,
  type: 'json',
  body: `${JSON.stringify(value, null, 2)}\n`,
});

export const STATUS_TITLES: Record<number, string> = {
  400: 'Bad request',
  403: 'Refused',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Not possible now',
  413: 'Too large',
  415: 'Unsupported form encoding',
  421: 'Wrong host',
  500: 'Something went wrong',
};

export function problem(status: number, message: string, api: boolean): Reply {
  if (api) return jsonReply(status, { error: message });
  const title = STATUS_TITLES[status] ?? `Error ${status}`;
  return htmlReply(
    status,
    title,
    html`<h1>${title}</h1><div class="problem">${message}</div>
<p><a href="/customers">Back to the receivables</a></p>`,
  );
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function asOfParam(params: URLSearchParams, today: () => string): IsoDate {
  const raw = params.get('asOf');
  if (raw === null || raw.trim() === '') return today();
  const r = parseDate(raw.trim(), 'YYYY-MM-DD');
  if (!r.ok) {
    throw new HttpProblem(
      400,
      `asOf "${raw}" is not a valid date: it ${r.reason}. Give the date as YYYY-MM-DD, for example ${today()}.`,
    );
  }
  return r.value;
}

export function limitParam(params: URLSearchParams): number {
  const raw = params.get('limit');
  if (raw === null || raw.trim() === '') return DEFAULT_RUNS;
  const v = raw.trim();
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_RUNS)
    throw new HttpProblem(400, `limit "${raw}" must be a whole number from 1 to ${MAX_RUNS}.`);
  return Number(v);
}

export const BODY_MAX = 64 * 1024;

/** A request body as text, refused above 64 KiB. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > BODY_MAX) throw new HttpProblem(413, 'The request body is too large.');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * A console form's fields, or the 415 page when the body is not a form (`sentBy`: the page whose
 * form it should be, named in the refusal). Nothing is changed either way.
 */
export async function formFields(req: IncomingMessage, sentBy: string): Promise<URLSearchParams | Reply> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== FORM_TYPE)
    return problem(415, `Send the form as ${FORM_TYPE}, as ${sentBy} does. Nothing was changed.`, false);
  return new URLSearchParams(await readBody(req));
}
