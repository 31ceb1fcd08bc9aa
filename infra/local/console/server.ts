import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { creditChecksHttp } from '../../../functions/checks/http.ts';
import { isoDateOrNull } from '../../../functions/core/dates.ts';
import { formatMinor } from '../../../functions/core/money.ts';
import { moneyAsDecimals } from '../../../functions/core/money-json.ts';
import { BadCursorError } from '../../../functions/core/paging.ts';
import { predictionsJson } from '../../../functions/predict/book.ts';
import { ANSWER_PATH, alertsCsvReply, alertsReply, answerForm, doneNote, operatorOf } from './alerts.ts';
import {
  APPLICATIONS_API_PATH,
  APPLICATIONS_FORM_PATH,
  applicationsReply,
  fileApplicationReply,
} from './applications.ts';
import { approvalsJson, approvalsPage, waitingApprovals } from './approvals.ts';
import {
  ACTION_PATHS,
  collectionsActionReply,
  collectionsDoneNote,
  collectionsReply,
  PROMISE_PATH,
  promiseFormReply,
} from './collections.ts';
import { CHECK_FORM_PATHS, type ConsoleChecks, checksForm, checksPage } from './credit-checks.ts';
import { creditView, customerPage, customersCsvReply, customersReply } from './customers.ts';
import { forecastReply, predictionsOf } from './forecast.ts';
import { CSP, html } from './layout.ts';
import { opsPage } from './ops.ts';
import type { ConsoleOptions, ConsoleTransfers, RunningConsole } from './options.ts';
import { afterParam, hrefWith, pageParam, pagingJson } from './paging.ts';
import {
  customerReviewSection,
  RUNS_PAGE,
  reviewPreviewPage,
  reviewReport,
  reviewRunPage,
  reviewsPage,
  runReview,
  runReviewsCsvReply,
  runReviewsHref,
  runReviewsParams,
  runReviewsQuery,
  runReviewsView,
} from './reviews.ts';
import { runPage, runsCsvReply, runsJson, runsPage, runsQuery, runsView } from './runs.ts';
import {
  asOfParam,
  CONTENT_TYPES,
  customerHref,
  HttpProblem,
  htmlReply,
  jsonReply,
  problem,
  type Reply,
  readBody,
} from './shared.ts';
import {
  markPaidForm,
  OUTBOX_PAGE,
  outboxHref,
  outboxPage,
  recallForm,
  requestTransfer,
  retryForm,
  standingOf,
  transferPage,
  transfersCsvReply,
  transfersReply,
} from './transfers.ts';

export const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Why a request names a host this console does not answer for (DNS rebinding: a hostile name
 * resolved to 127.0.0.1 would make its pages same-origin with the console), or undefined. Only
 * when the console listens on a loopback address, where every honest Host is a loopback name.
 */
export function foreignHost(opts: ConsoleOptions, req: IncomingMessage): string | undefined {
  const listen = opts.host ?? '127.0.0.1';
  if (!LOOPBACK_NAMES.has(listen) && listen !== '::1') return undefined;
  const host = req.headers.host;
  const name = host ? hostOf(`http://${host}`)?.replace(/:\d+$/, '') : undefined;
  if (name !== undefined && LOOPBACK_NAMES.has(name)) return undefined;
  return `This console answers for localhost only, not for ${host ?? 'a request without a Host'}.`;
}

/**
 * Why a request that can change something looks cross-site, or undefined when it does not.
 * The console has no login, so any web page could post a form to it: a browser says where the
 * request comes from with `Sec-Fetch-Site` and `Origin`, and either naming another site refuses it.
 * A request with neither (curl, a script) is allowed: it did not come from a web page.
 *
 * One exception: under the console's `Referrer-Policy: no-referrer` a browser sends `Origin: null`
 * with its own same-origin form posts, so "null" passes when `Sec-Fetch-Site` says `same-origin`
 * (a header no page can set). Without `Sec-Fetch-Site`, "null" is refused.
 */
export function crossSiteReason(req: IncomingMessage): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return `The browser says this request was sent from another site (Sec-Fetch-Site: ${site}).`;
  const origin = req.headers.origin;
  if (origin === undefined || (origin === 'null' && site === 'same-origin')) return undefined;
  const host = req.headers.host;
  // The console speaks plain http: parsed that way, a Host of "name:80" compares as "name".
  const ours = host ? hostOf(`http://${host}`) : undefined;
  const theirs = hostOf(origin);
  if (ours === undefined || theirs === undefined || theirs !== ours)
    return `This request was sent from ${origin}, not from this console${host ? ` (${host})` : ''}.`;
  return undefined;
}

/** The host:port of a URL, lower case (without the scheme's default port); undefined if it is none. */
export function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Routing

export async function route(
  opts: ConsoleOptions,
  segs: readonly string[],
  params: URLSearchParams,
): Promise<Reply> {
  const q = opts.queries;
  const api = segs[0] === 'api';
  const p = api ? segs.slice(1) : segs;
  const [a, b, ...rest] = p;
  if (a === 'reviews' && b !== undefined && rest[0] === 'reviews.csv' && rest.length === 1 && !api) {
    if (!opts.reviews) return problem(404, 'Reviews are not available in this console.', api);
    return runReviewsCsvReply(opts.reviews, b, params);
  }
  if (a === 'reviews' && b !== undefined && rest.length === 1 && !api)
    return reviewReport(opts, b, rest[0] as string);
  if (rest.length > 0) return problem(404, 'There is no page at this address.', api);
  if (a === 'credit-checks' && b === undefined && !api) {
    if (!opts.credit?.checks) return problem(404, 'Credit checks are not available in this console.', api);
    return checksPage(consoleChecks(opts));
  }
  if (a === 'applications') {
    if (!opts.applications)
      return problem(404, 'Credit applications are not available in this console.', api);
    return applicationsReply(opts.applications, b === 'new' && !api ? undefined : b, api);
  }
  if (a === 'reviews') {
    if (!opts.reviews) return problem(404, 'Reviews are not available in this console.', api);
    const after = afterParam(params);
    if (b === undefined) {
      const runs = await opts.reviews.list({ size: RUNS_PAGE, after });
      const href = (a: string | undefined) => hrefWith('/api/reviews', { after: a });
      if (api) return jsonReply(200, { runs: runs.items, paging: pagingJson(runs, href) });
      return htmlReply(200, 'Reviews', reviewsPage(runs, opts.today()), 'reviews');
    }
    if (b === 'preview') {
      const asOf = params.get('asOf')?.trim() || opts.today();
      if (isoDateOrNull(asOf) === null) {
        const message = `"${asOf}" is not a date (YYYY-MM-DD). Nothing was previewed.`;
        if (api) return problem(400, message, true);
        return htmlReply(
          400,
          'Reviews',
          reviewsPage(await opts.reviews.list({ size: RUNS_PAGE }), opts.today(), message),
          'reviews',
        );
      }
      const preview = await opts.reviews.preview(asOf);
      if (api) return jsonReply(200, preview);
      return htmlReply(200, `Preview ${asOf}`, reviewPreviewPage(preview), 'reviews');
    }
    const v = await runReviewsView(opts.reviews, b, runReviewsQuery(params));
    if (!v) return problem(404, `There is no review run "${b}".`, api);
    if (api)
      return jsonReply(200, {
        run: v.run,
        reviews: v.page.items,
        paging: pagingJson(v.page, (t) => runReviewsHref(b, v.q, true)(t, v.inMemory)),
        query: Object.fromEntries(Object.entries(runReviewsParams(v.q)).filter(([, x]) => x !== undefined)),
      });
    return htmlReply(200, `Review ${v.run.asOf}`, reviewRunPage(v), 'reviews');
  }

  if (!api && p.length === 1 && a === 'healthz') return { status: 200, type: 'text', body: 'ok' };

  if ((p.length === 0 && !api) || (a === 'customers' && b === undefined))
    return customersReply(opts, params, api);
  if (a === 'customers.csv' && b === undefined && !api) return customersCsvReply(opts, params);
  if (a === 'customers' && b !== undefined) {
    const asOf = asOfParam(params, opts.today);
    // The partition once, for the statement and the credit file (a large customer's is most of the page's time).
    const part = opts.credit ? await opts.credit.store.loadCustomerPartition(b) : undefined;
    const [file, reviews] = await Promise.all([
      q.customer(b, asOf, part),
      opts.reviews ? opts.reviews.customer(b) : undefined,
    ]);
    if (!file) return problem(404, `There is no customer "${b}" on file.`, api);
    // Every customer's predictions as of the date, read once and kept (the segment is the book's).
    const predictions = await predictionsOf(opts)?.customer(b, asOf);
    const credit = opts.credit
      ? await creditView(opts.credit, b, asOf, {
          part,
          reviews: reviews?.reviews,
          transfers: opts.transfers?.ofCustomer,
          runDate: async (runId) => (await q.run(runId))?.run.startedAt.slice(0, 10),
          // The answer forms come back here (alerts.ts `backHref`).
          answer: api
            ? undefined
            : { back: customerHref(b, asOf), actor: operatorOf(opts), today: opts.today() },
        })
      : undefined;
    // Amounts as the API gives them everywhere: plain decimals beside their currency (README "Money in the API").
    if (api)
      return jsonReply(
        200,
        moneyAsDecimals({
          asOf,
          ...file,
          ...(credit
            ? {
                assessment: {
                  ...credit.assessment,
                  activeAlerts: credit.alerts,
                  // The exposure the page shows (in the credit currency) and the approved transfers in it.
                  exposure: credit.exposure,
                  transfersCounted: credit.transfers.map((t) => t.transferId),
                },
              }
            : {}),
          ...(reviews ? { review: { state: reviews.state, recent: reviews.reviews } } : {}),
          ...(predictions ? { predictions: predictionsJson(predictions, formatMinor) } : {}),
        }),
      );
    const body = html`${doneNote(params)}${collectionsDoneNote(params)}${customerPage(file, b, asOf, credit, predictions)}`;
    return htmlReply(
      200,
      file.customer?.name ?? b,
      reviews ? html`${body}${customerReviewSection(reviews)}` : body,
      'customers',
    );
  }
  if (a === 'alerts.csv' && b === undefined && !api) {
    if (!opts.credit)
      return problem(404, 'Alerts are not available: this console runs without the credit store.', api);
    return alertsCsvReply(opts.credit, params);
  }
  if (a === 'collections' && b === undefined) {
    if (!opts.credit)
      return problem(404, 'Collections are not available: this console runs without the credit store.', api);
    return collectionsReply(opts.credit, params, api, opts.today, operatorOf(opts));
  }
  if (a === 'alerts' && b === undefined) {
    if (!opts.credit)
      return problem(404, 'Alerts are not available: this console runs without the credit store.', api);
    const r = await alertsReply(opts.credit, params, api, opts);
    return 'json' in r ? jsonReply(200, r.json) : htmlReply(200, r.title, r.body, 'alerts');
  }
  if (a === 'approvals' && b === undefined) {
    if (!opts.transfers) return problem(404, 'Approvals are not available in this console.', api);
    const list = await waitingApprovals(opts, opts.transfers);
    if (api) return jsonReply(200, approvalsJson(list));
    return htmlReply(200, 'Approvals', approvalsPage(list, new Date()), 'approvals');
  }
  if (a === 'transfers.csv' && b === undefined && !api) {
    if (!opts.transfers) return problem(404, 'Transfers are not available in this console.', api);
    return transfersCsvReply(opts, opts.transfers, params);
  }
  if (a === 'transfers' && !api) {
    if (!opts.transfers) return problem(404, 'Transfers are not available in this console.', api);
    // GET /transfers/new is where the form posts: reloaded or bookmarked, it is the page again.
    if (b === undefined || b === 'new')
      return transfersReply(opts, opts.transfers, undefined, afterParam(params), params);
    const found = await opts.transfers.show(b);
    if (!found)
      return htmlReply(
        404,
        'Not found',
        html`<h1>Not found</h1><div class="problem">There is no transfer "${b}".</div>
<p><a href="/transfers">Back to the transfers</a></p>`,
        'transfers',
      );
    const today = opts.today();
    return htmlReply(
      200,
      `Transfer ${found.transfer.transferId}`,
      transferPage(found.transfer, found.approvals, today, await standingOf(opts, found.transfer, today)),
      'transfers',
    );
  }
  if (a === 'outbox' && b === undefined) {
    if (!opts.transfers) return problem(404, 'The outbox is not available in this console.', api);
    const mail = await opts.transfers.mail(pageParam(params), OUTBOX_PAGE);
    if (api)
      return jsonReply(200, { mail: mail.items, paging: pagingJson(mail, (p) => outboxHref(p, true)) });
    return htmlReply(200, 'Outbox', outboxPage(mail), 'outbox');
  }
  if (a === 'forecast' && b === undefined) return forecastReply(opts, params, api ? 'json' : 'html');
  if (a === 'forecast.csv' && b === undefined && !api) return forecastReply(opts, params, 'csv');
  if (a === 'ops' && b === undefined) {
    if (!opts.ops) return problem(404, 'The ops figures are not available in this console.', api);
    const summary = await opts.ops();
    if (api) return jsonReply(200, summary);
    return htmlReply(200, 'Ops', opsPage(summary), 'ops');
  }
  if (a === 'runs.csv' && b === undefined && !api) return runsCsvReply(q, params);
  if (a === 'runs' && b === undefined) {
    const v = await runsView(q, runsQuery(params));
    if (api) return jsonReply(200, runsJson(v));
    return htmlReply(200, 'Ingest runs', runsPage(v), 'runs');
  }
  if (a === 'runs' && b !== undefined) {
    const found = await q.run(b);
    if (!found) return problem(404, `There is no ingest run "${b}".`, api);
    if (api) return jsonReply(200, found);
    return htmlReply(200, `Run ${found.run.file}`, runPage(found.run, found.rejects), 'runs');
  }
  return problem(404, 'There is no page at this address.', api);
}

export function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const body = Buffer.from(reply.body, 'utf8');
  res.writeHead(reply.status, {
    'content-type': CONTENT_TYPES[reply.type],
    'content-length': String(body.length),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    ...(reply.type === 'html' ? { 'content-security-policy': CSP } : {}),
    ...reply.headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export async function handle(opts: ConsoleOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
  const api = rawPath === '/api' || rawPath.startsWith('/api/');
  const method = req.method ?? 'GET';
  try {
    const foreign = foreignHost(opts, req);
    if (foreign) {
      send(req, res, problem(421, foreign, api));
      return;
    }
    // Every request that can change something (the form, the transfers API, an approval) is
    // refused when a browser says another site sent it.
    const refused = method === 'GET' || method === 'HEAD' ? undefined : crossSiteReason(req);
    if (refused) {
      send(req, res, problem(403, `${refused} Nothing was changed.`, api));
      return;
    }
    const portal = opts.portal && !api && rawPath.startsWith('/portal/') ? opts.portal : undefined;
    if ((opts.transfers && isTransfersPath(rawPath, method)) || portal) {
      const body = await readBody(req);
      const r = await (portal ?? (opts.transfers as ConsoleTransfers).http)({
        method: req.method ?? 'GET',
        path: rawPath.startsWith('/api/') ? rawPath.slice(4) : rawPath,
        headers: Object.fromEntries(
          Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]),
        ),
        body,
        query: Object.fromEntries(params),
      });
      const bytes = Buffer.from(r.body, 'utf8');
      res.writeHead(r.status, { ...r.headers, 'content-length': String(bytes.length) });
      res.end(req.method === 'HEAD' ? undefined : bytes);
      return;
    }
    const form = !api && isRequestFormPath(rawPath);
    if (opts.transfers && form && method === 'POST') {
      send(req, res, await requestTransfer(opts, opts.transfers, req));
      return;
    }
    if (opts.credit && !api && ACTION_PATHS.includes(rawPath) && method === 'POST') {
      send(req, res, await collectionsActionReply(opts.credit, rawPath, req, opts.today));
      return;
    }
    if (opts.credit && !api && rawPath === PROMISE_PATH && method === 'POST') {
      send(req, res, await promiseFormReply(opts.credit, req, opts.today));
      return;
    }
    if (opts.credit && !api && rawPath === ANSWER_PATH && method === 'POST') {
      send(req, res, await answerForm(opts, opts.credit, req));
      return;
    }
    const recall = api ? undefined : recallFormPath(rawPath);
    if (opts.transfers && recall !== undefined && method === 'POST') {
      send(req, res, await recallForm(opts.transfers, recall, req));
      return;
    }
    const retry = api ? undefined : retryFormPath(rawPath);
    if (opts.transfers && retry !== undefined && method === 'POST') {
      send(req, res, await retryForm(opts.transfers, retry, req));
      return;
    }
    const paid = api ? undefined : markPaidPath(rawPath);
    if (opts.transfers && paid !== undefined && method === 'POST') {
      send(req, res, await markPaidForm(opts.transfers, paid, req));
      return;
    }
    if (
      opts.credit?.checks &&
      ((method === 'POST' && CHECK_PATHS.includes(rawPath)) ||
        (method === 'GET' && rawPath === '/api/credit-checks/holds'))
    ) {
      // The same handler as the checks Lambda's function URL, mounted under /api (with the hold
      // queue, and the order release when the approval chain is at hand).
      const credit = opts.credit;
      const r = await creditChecksHttp(credit.checks as NonNullable<typeof credit.checks>, {
        policy: credit.policy,
        today: opts.today,
        now: () => new Date(),
        channel: 'console',
        queue: true,
        releases: credit.checkReleases,
      })({ method, path: rawPath.slice(4), headers: {}, body: method === 'GET' ? '' : await readBody(req) });
      const bytes = Buffer.from(r.body, 'utf8');
      res.writeHead(r.status, { ...r.headers, 'content-length': String(bytes.length) });
      res.end(bytes);
      return;
    }
    if (opts.credit?.checks && method === 'POST' && CHECK_FORM_PATHS.includes(rawPath)) {
      send(req, res, await checksForm(consoleChecks(opts), rawPath, req));
      return;
    }
    if (
      opts.applications &&
      method === 'POST' &&
      (rawPath === APPLICATIONS_FORM_PATH || rawPath === APPLICATIONS_API_PATH)
    ) {
      send(req, res, await fileApplicationReply(opts.applications, req, api));
      return;
    }
    if (opts.transfers?.proposePolicy && method === 'POST' && rawPath === '/api/policy') {
      send(req, res, await proposePolicy(opts.transfers.proposePolicy, await readBody(req)));
      return;
    }
    if (
      opts.reviews &&
      method === 'POST' &&
      (rawPath === '/reviews/run' || rawPath === '/api/reviews/runs')
    ) {
      send(req, res, await runReview(opts, opts.reviews, req, api));
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      const r =
        opts.transfers && form
          ? problem(405, 'Request a transfer with the form on the Transfers page (a POST).', api)
          : problem(405, 'This console is read-only: use GET.', api);
      send(req, res, { ...r, headers: { allow: opts.transfers && form ? 'GET, HEAD, POST' : 'GET, HEAD' } });
      return;
    }
    const trimmed = rawPath.length > 1 && rawPath.endsWith('/') ? rawPath.slice(0, -1) : rawPath;
    let segs: string[];
    try {
      segs = trimmed === '/' || trimmed === '' ? [] : trimmed.slice(1).split('/').map(decodeURIComponent);
    } catch {
      send(req, res, problem(400, 'The address is not valid (bad percent-encoding).', api));
      return;
    }
    send(req, res, await route(opts, segs, params));
  } catch (e) {
    if (e instanceof HttpProblem || e instanceof BadCursorError) {
      send(req, res, problem(e instanceof HttpProblem ? e.status : 400, e.message, api));
      return;
    }
    console.error(`console: ${req.method} ${rawPath} failed:`, e);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(
      req,
      res,
      problem(500, 'The console could not build this page. The error was logged on the server.', api),
    );
  }
}

const CHECK_PATHS = [
  '/api/credit-checks',
  '/api/credit-checks/cancel',
  '/api/credit-checks/recheck',
  '/api/credit-checks/release',
];

/** The credit checks page's needs, from the console's options. */
function consoleChecks(opts: ConsoleOptions): ConsoleChecks {
  const credit = opts.credit as NonNullable<ConsoleOptions['credit']>;
  return {
    deps: credit.checks as NonNullable<typeof credit.checks>,
    policy: credit.policy,
    today: opts.today,
    releases: credit.checkReleases,
  };
}

/**
 * `POST /api/policy` (`sentinel policy set`): `{document, by}` puts a credit policy to the approval
 * chain; 202 with the request, or 400 naming what is wrong (an invalid policy, an unknown person,
 * a policy already in force), nothing asked.
 */
async function proposePolicy(
  propose: NonNullable<NonNullable<ConsoleOptions['transfers']>['proposePolicy']>,
  body: string,
): Promise<Reply> {
  let input: { document?: unknown; by?: unknown };
  try {
    input = JSON.parse(body) as typeof input;
  } catch {
    return problem(400, 'The body is not JSON: send {"document": {...}, "by": "<person>"}.', true);
  }
  if (typeof input.by !== 'string' || input.by.trim() === '')
    return jsonReply(400, { issues: [{ field: 'by', message: 'is required: who sets the policy' }] });
  const r = await propose({ document: input.document, requester: input.by, source: 'sentinel policy set' });
  return r.ok ? jsonReply(202, r) : jsonReply(400, { issues: [{ field: r.field, message: r.problem }] });
}

/**
 * What the transfers handler answers: the approval pages, Slack's endpoint, and the transfers API
 * (everything under `/api/transfers`; without `/api`, `POST /transfers` and the rest of
 * `/transfers/...`, e.g. `POST /transfers/ID/recall`). The console's own are the Transfers page
 * (GET `/transfers`), the request form (`/transfers/new`) and a transfer's page (GET `/transfers/ID`).
 */
export function isTransfersPath(path: string, method: string): boolean {
  const api = path.startsWith('/api/');
  const p = api ? path.slice(4) : path;
  // The list of waiting approvals is the console's Approvals page (and its JSON), links and all.
  if (p === '/approvals' && (method === 'GET' || method === 'HEAD')) return false;
  if (p.startsWith('/approvals/') || p === '/approvals' || p === '/slack/interactions') return true;
  if (api) return p === '/transfers' || p.startsWith('/transfers/');
  if (p === '/transfers') return method !== 'GET' && method !== 'HEAD';
  if (
    isRequestFormPath(p) ||
    markPaidPath(p) !== undefined ||
    recallFormPath(p) !== undefined ||
    retryFormPath(p) !== undefined
  )
    return false;
  if ((method === 'GET' || method === 'HEAD') && /^\/transfers\/[^/]+\/?$/.test(p)) return false;
  return p.startsWith('/transfers/');
}

/** The transfer id of the transfer page's "mark paid" form path, or undefined. */
export function markPaidPath(path: string): string | undefined {
  const m = /^\/transfers\/([^/]+)\/mark-paid\/?$/.exec(path);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1] as string);
  } catch {
    return undefined;
  }
}

/** The transfer id of the transfer page's Recall form path, or undefined. */
export function recallFormPath(path: string): string | undefined {
  const m = /^\/transfers\/([^/]+)\/recall-form\/?$/.exec(path);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1] as string);
  } catch {
    return undefined;
  }
}

/** The transfer id of the transfer page's Retry form path, or undefined. */
export function retryFormPath(path: string): string | undefined {
  const m = /^\/transfers\/([^/]+)\/retry-form\/?$/.exec(path);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1] as string);
  } catch {
    return undefined;
  }
}

/** Where the request form posts (the console's own, not the transfers API's). */
export const isRequestFormPath = (path: string) => path === '/transfers/new' || path === '/transfers/new/';

/** Starts the console; resolves once it listens. */
export async function startConsole(opts: ConsoleOptions): Promise<RunningConsole> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    void handle(opts, req, res);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 8787, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  server.on('error', (e) => console.error('console: server error:', e));
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    close: () =>
      new Promise<void>((ok, fail) => {
        server.close((e) => (e ? fail(e) : ok()));
        server.closeAllConnections();
      }),
  };
}
