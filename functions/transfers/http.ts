import { type ApplicationsApi, applicationsJson } from '../applications/http.ts';
import { isoDateOrNull } from '../core/dates.ts';
import { moneyAsDecimals } from '../core/money-json.ts';
import { BadCursorError } from '../core/paging.ts';
import type { DecisionOutcome, TransferApp } from './app.ts';
import { approvalPage, escapeHtml, page } from './approval-page.ts';
import { slackDecisionUpdate } from './messages.ts';
import { type Decision, TRANSFER_STATUSES, type TransferFilter } from './ports.ts';
import { TRANSFER_TYPES } from './request.ts';
import { parseSlackInteraction, type SlackInteraction, verifySlackRequest } from './slack-verify.ts';

/**
 * Transfers over HTTP, framework-free so the same code answers behind a Lambda function URL and
 * inside the local console. Two faces:
 * - `pages`: the approval pages approvers reach from an email or Slack (no login; the signed link
 *   is the credential) and Slack's interactivity endpoint;
 * - `api`: POST /transfers, GET /transfers[/ID], POST /transfers/ID/recall, POST /transfers/ID/retry,
 *   POST /transfers/ID/paid, and with `applications` POST /applications, GET /applications[/ID]
 *   (functions/applications/http.ts) (IAM-authorised on AWS).
 *
 * GET never changes anything (mail scanners open every link); only the page's POST decides. The
 * pages load no script, send no referrer (the link is a credential) and are never cached.
 */
export interface HttpRequest {
  readonly method: string;
  /** The path without the query, e.g. `/approvals/<token>`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  /** The query string's parameters (`GET /transfers?after=...&limit=...`). */
  readonly query?: Readonly<Record<string, string | undefined>> | undefined;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface TransferHttpOptions {
  readonly faces: readonly ('pages' | 'api')[];
  /** Slack's signing secret (undefined: Slack interactivity is not set up). */
  readonly slackSigningSecret?: () => Promise<string | undefined>;
  /**
   * Hands a verified Slack button press over to be decided after the answer (Slack wants one within
   * 3 seconds): in the background locally, through a queue on AWS. Either way `decideSlack` decides it.
   */
  readonly deferSlack?: (action: SlackInteraction) => Promise<void>;
  readonly clock: { now(): Date };
  /**
   * Credit applications on the `api` face (README "Credit applications"): the same JSON as the
   * console's `/api/applications`. @default none: 404
   */
  readonly applications?: ApplicationsApi | undefined;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'x-robots-tag': 'noindex, nofollow',
};

/** A JSON answer with the security headers every answer here carries (the credit checks' too). */
export function json(status: number, value: unknown): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS },
    body: `${JSON.stringify(value, null, 2)}\n`,
  };
}

function refusalPage(o: Extract<DecisionOutcome, { ok: false }>): HttpResponse {
  const t = o.transfer;
  return page(
    o.status,
    'Approval',
    `<h1>Transfer approval</h1><p class="problem">${escapeHtml(o.message)}</p>${
      t ? `<p>Transfer <strong>${escapeHtml(t.transferId)}</strong> is ${escapeHtml(t.status)}.</p>` : ''
    }`,
  );
}

function form(body: string): URLSearchParams {
  return new URLSearchParams(body);
}

/**
 * Answers a button press through Slack's `response_url`: a decision replaces the message whose
 * button was pressed with `text`; with `keep` (nothing was decided, e.g. a rejection needs a
 * reason) `text` goes to the presser alone and the message keeps its buttons.
 */
export async function replaceSlackMessage(responseUrl: string, text: string, keep = false): Promise<void> {
  await fetch(responseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(
      keep ? { response_type: 'ephemeral', replace_original: false, text } : slackDecisionUpdate(text),
    ),
  });
}

/**
 * Decides a verified Slack button press as the person who pressed it, and answers in the thread
 * through the interaction's `response_url` (Slack's hosts only: `parseSlackInteraction` drops others).
 */
export async function decideSlack(
  app: TransferApp,
  action: SlackInteraction,
  respond: (responseUrl: string, text: string, keep?: boolean) => Promise<void> = replaceSlackMessage,
): Promise<DecisionOutcome> {
  const decision: Decision = action.actionId === 'transfer.approve' ? 'approved' : 'rejected';
  // A button carries no reason: a rejection from Slack is refused with the page's link to reject on.
  const r = await app.decide(action.value, decision, { slackId: action.userId }, 'slack');
  if (action.responseUrl)
    await respond(action.responseUrl, r.message, !r.ok && r.refusal === 'reason-required');
  return r;
}

const PAGE_DEFAULT = 100;
const PAGE_MAX = 1000;

/**
 * The list's filters from the query (`status`, `type`, `currency`, `from` and `to` requested
 * dates), each applied by the store; or the issues with them.
 */
function transferFilterOf(
  query: Readonly<Record<string, string | undefined>>,
): TransferFilter | { issues: { field: string; message: string }[] } {
  const issues: { field: string; message: string }[] = [];
  const one = <T extends string>(field: string, allowed: readonly T[]): T | undefined => {
    const v = query[field];
    if (v === undefined || v === '') return undefined;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    issues.push({ field, message: `must be one of ${allowed.join(', ')}` });
    return undefined;
  };
  const date = (field: string) => {
    const v = query[field];
    if (v === undefined || v === '') return undefined;
    if (isoDateOrNull(v) !== null) return v;
    issues.push({ field, message: 'must be a date (YYYY-MM-DD)' });
    return undefined;
  };
  const currency = query.currency?.trim().toUpperCase() || undefined;
  if (currency !== undefined && !/^[A-Z]{3}$/.test(currency))
    issues.push({ field: 'currency', message: 'must be a currency code (three letters)' });
  const filter = {
    status: one('status', TRANSFER_STATUSES),
    type: one('type', TRANSFER_TYPES),
    currency,
    from: date('from'),
    to: date('to'),
  };
  return issues.length > 0 ? { issues } : filter;
}

/**
 * GET /transfers: a page of the transfers, newest first, with how many there are and the cursors
 * of the pages beside it (`?limit=` up to 1,000; `?after=` a cursor a page gave: `next`, or `prev`,
 * which is null for the first page), narrowed by `status`, `type`, `currency`, `from` and `to`
 * (requested dates). Cursors, not links: the API is mounted under `/api` locally. Amounts as plain
 * decimals beside their currency (README "Money in the API").
 */
async function transfersPage(
  app: TransferApp,
  query: Readonly<Record<string, string | undefined>>,
): Promise<HttpResponse> {
  const raw = query.limit;
  const size = raw === undefined || raw === '' ? PAGE_DEFAULT : Number(raw);
  if (!Number.isInteger(size) || size < 1 || size > PAGE_MAX)
    return json(400, {
      issues: [{ field: 'limit', message: `must be a whole number from 1 to ${PAGE_MAX}` }],
    });
  try {
    const filter = transferFilterOf(query);
    if ('issues' in filter) return json(400, filter);
    const p = await app.page({ size, after: query.after || undefined }, filter);
    return json(200, {
      transfers: moneyAsDecimals(p.items),
      total: p.total,
      from: p.from,
      ...(p.next ? { next: p.next } : {}),
      ...(p.prev ? { prev: p.prev.after ?? null } : {}),
    });
  } catch (e) {
    if (e instanceof BadCursorError) return json(400, { issues: [{ field: 'after', message: e.message }] });
    throw e;
  }
}

export function transferHttp(
  app: TransferApp,
  opts: TransferHttpOptions,
): (req: HttpRequest) => Promise<HttpResponse> {
  const pages = opts.faces.includes('pages');
  const api = opts.faces.includes('api');

  return async (req) => {
    const segs = req.path.split('/').filter(Boolean);
    const [a, b, c] = segs;
    const method = req.method.toUpperCase();

    if (pages && a === 'approvals' && b !== undefined && c === undefined) {
      const token = b;
      if (method === 'GET' || method === 'HEAD') {
        const v = await app.approvalPage(token);
        return v.ok ? approvalPage(v) : refusalPage(v);
      }
      if (method === 'POST') {
        const f = form(req.body);
        const d = f.get('decision');
        const decision: Decision | undefined =
          d === 'approve' ? 'approved' : d === 'reject' ? 'rejected' : undefined;
        if (!decision)
          return page(
            400,
            'Approval',
            '<p class="problem">Choose Approve or Reject. Nothing was recorded.</p>',
          );
        const comment = (f.get('comment') ?? '').slice(0, 1000);
        const email = f.get('email') ?? undefined;
        const r = await app.decide(token, decision, { email }, 'email', comment);
        if (!r.ok && r.refusal === 'reason-required') {
          // The page again, the problem at the form and what was typed kept, so it is fixed in place.
          const v = await app.approvalPage(token);
          if (v.ok) return approvalPage(v, { problem: r.message, email, comment }, r.status);
        }
        if (!r.ok) return refusalPage(r);
        return page(
          200,
          'Decision recorded',
          `<h1>Transfer ${escapeHtml(r.transfer.transferId)}</h1><p class="done">${escapeHtml(r.message)}</p><p>Recorded at ${escapeHtml(r.approval.decidedAt ?? '')} on the audit trail.</p>`,
        );
      }
      return {
        ...page(405, 'Approval', '<p class="problem">Use the page.</p>'),
        headers: { allow: 'GET, POST' },
      };
    }

    if (pages && a === 'slack' && b === 'interactions' && c === undefined && method === 'POST') {
      const secret = await opts.slackSigningSecret?.();
      if (!secret) return json(404, { error: 'Slack interactivity is not set up' });
      const check = verifySlackRequest({
        signingSecret: secret,
        timestamp: req.headers['x-slack-request-timestamp'],
        signature: req.headers['x-slack-signature'],
        rawBody: req.body,
        now: opts.clock.now(),
      });
      if (!check.ok) return json(401, { error: check.reason });
      const action = parseSlackInteraction(req.body);
      if (!action) return json(400, { error: 'not a transfer action' });
      if (!opts.deferSlack) return json(404, { error: 'Slack interactivity is not set up' });
      // Slack wants an answer within 3 seconds: acknowledge now, decide after.
      await opts.deferSlack(action);
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: '' };
    }

    if (api && a === 'transfers') {
      if (b === undefined && method === 'POST') {
        let input: unknown;
        try {
          input = JSON.parse(req.body);
        } catch {
          return json(400, { issues: [{ field: '(body)', message: 'is not JSON' }] });
        }
        const r = await app.request(input);
        if (!r.ok) return json(400, { issues: r.issues });
        return json(201, { transfer: moneyAsDecimals(r.transfer) });
      }
      if (b === undefined && method === 'GET') return transfersPage(app, req.query ?? {});
      if (b !== undefined && c === undefined && method === 'GET') {
        const found = await app.show(b);
        return found ? json(200, moneyAsDecimals(found)) : json(404, { error: `There is no transfer ${b}.` });
      }
      if (b !== undefined && (c === 'recall' || c === 'retry' || c === 'paid') && method === 'POST') {
        let body: { by?: unknown; on?: unknown };
        try {
          body = JSON.parse(req.body || '{}') as { by?: unknown; on?: unknown };
        } catch {
          return json(400, { issues: [{ field: '(body)', message: 'is not JSON' }] });
        }
        const { by, on } = body;
        if (typeof by !== 'string' || by.trim() === '')
          return json(400, { issues: [{ field: 'by', message: 'is required' }] });
        if (on !== undefined && typeof on !== 'string')
          return json(400, { issues: [{ field: 'on', message: 'must be a date (YYYY-MM-DD)' }] });
        const r =
          c === 'recall'
            ? await app.recall(b, by.trim())
            : c === 'retry'
              ? await app.retry(b, by.trim())
              : await app.markPaid(b, by.trim(), on);
        return r.ok ? json(200, moneyAsDecimals(r)) : json(r.status, { error: r.message });
      }
    }
    if (api && opts.applications && a === 'applications' && c === undefined) {
      const r = await applicationsJson(opts.applications, method, b, req.body);
      if (r) return json(r.status, r.value);
      const refused = json(405, { error: b === undefined ? 'Use GET, or POST to file one.' : 'Use GET.' });
      return { ...refused, headers: { ...refused.headers, allow: b === undefined ? 'GET, POST' : 'GET' } };
    }
    if (api && a === 'approvals' && b === undefined && method === 'GET')
      return json(200, { approvals: await app.pendingApprovals() });
    return json(404, { error: 'There is nothing at this address.' });
  };
}

// ---- behind a Lambda function URL ----

export interface FunctionUrlEvent {
  readonly rawPath: string;
  readonly rawQueryString?: string;
  readonly headers?: Record<string, string | undefined>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: { readonly requestId?: string; readonly http: { readonly method: string } };
}

/** A URL's request: its id (Powertools' convention for function URLs); the path names the transfer if any. */
export const requestId = (e: FunctionUrlEvent) => e.requestContext.requestId;

export const toRequest = (e: FunctionUrlEvent): HttpRequest => ({
  method: e.requestContext.http.method,
  path: e.rawPath,
  query: Object.fromEntries(new URLSearchParams(e.rawQueryString ?? '')),
  headers: e.headers ?? {},
  body: e.body ? (e.isBase64Encoded ? Buffer.from(e.body, 'base64').toString('utf8') : e.body) : '',
});
export const toResult = (r: HttpResponse) => ({ statusCode: r.status, headers: r.headers, body: r.body });
