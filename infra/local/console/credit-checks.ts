import type { IncomingMessage } from 'node:http';
import {
  CheckRefusedError,
  type CheckResult,
  checkCredit,
  parseCheckRequest,
} from '../../../functions/checks/app.ts';
import type { HeldOrder } from '../../../functions/checks/held.ts';
import {
  type OrderReleaseDeps,
  type RecheckReport,
  recheckHeld,
  requestOrderRelease,
} from '../../../functions/checks/holds.ts';
import type { CheckDeps } from '../../../functions/checks/ports.ts';
import type { FieldIssue } from '../../../functions/collections/promises.ts';
import { addDays } from '../../../functions/core/dates.ts';
import type { Policy } from '../../../functions/credit/policy.ts';
import { type Html, html } from './layout.ts';
import { formFields, htmlReply, instant, minorCell, money, type Reply } from './shared.ts';

/**
 * The credit checks page (README "Held orders"): a form that runs a check, the hold queue (each
 * held order's customer, order, amount, reasons, held since, state) with a "re-check now" button
 * and a "request release" form per order. The JSON is under /api (functions/checks/http.ts:
 * `GET /api/credit-checks/holds`, `POST /api/credit-checks/recheck`, `/release`).
 */
export interface ConsoleChecks {
  readonly deps: CheckDeps;
  readonly policy: () => Promise<Policy>;
  readonly today: () => string;
  /** The order release (the approval chain at hand). @default none: no release form */
  readonly releases?: OrderReleaseDeps | undefined;
}

export const CHECKS_PATH = '/credit-checks';
export const CHECK_FORM_PATHS = ['/credit-checks/check', '/credit-checks/recheck', '/credit-checks/release'];

const CHECK_FIELDS: [string, string, string][] = [
  ['customerId', 'Customer id', ''],
  ['orderId', 'Order id', ''],
  ['amount', 'Amount', 'e.g. 12,000.00'],
  ['currency', 'Currency', 'ISO 4217, e.g. EUR'],
  ['requestedShipDate', 'Requested ship date', 'YYYY-MM-DD (default today)'],
  ['channel', 'Channel', 'default console'],
];

const STATE_CLASS: Record<string, string> = {
  held: 'badge bad',
  released: 'badge ok',
  excepted: 'badge ok',
  cancelled: 'badge muted',
  expired: 'badge muted',
};

function resultHtml(r: CheckResult): Html {
  const d = r.decision;
  const reserved =
    r.reservation === 'reserved'
      ? `reserved until ${r.reservedUntil}`
      : r.reservation === 'kept'
        ? `already reserved until ${r.reservedUntil}`
        : 'nothing reserved';
  return html`<section id="check-result" role="status"><h2>${d.outcome.toUpperCase()}: order ${d.orderId} of ${d.customerId}</h2>
<p>${money(d.order.amount, d.order.currency)}, as of ${d.asOf}; ${reserved}.</p>
<ul>${d.reasons.map((x) => html`<li><strong>${x.code}</strong>: ${x.text}</li>`)}</ul>
<div class="wrap"><table><tbody>
<tr><td>Open items</td>${minorCell(d.exposure.openItems, d.currency)}</tr>
<tr><td>Less unapplied cash</td>${minorCell(d.exposure.unappliedCash, d.currency)}</tr>
<tr><td>Approved transfers</td>${minorCell(d.exposure.approvedTransfers, d.currency)}</tr>
<tr><td>Open orders</td>${minorCell(d.exposure.openOrders, d.currency)}</tr>
<tr><td>This order</td>${minorCell(d.exposure.thisOrder, d.currency)}</tr>
<tr><td>Exposure</td>${minorCell(d.exposure.total, d.currency)}</tr>
<tr><td>Credit limit</td>${d.limit === null ? html`<td class="num muted">none</td>` : minorCell(d.limit, d.currency)}</tr>
<tr><td>Headroom after</td>${d.headroomAfter === null ? html`<td class="num muted">—</td>` : minorCell(d.headroomAfter, d.currency)}</tr>
<tr><td>Rating</td><td>${d.rating === null ? 'not rated' : `${d.rating} (${d.riskClass} risk)`}</td></tr>
</tbody></table></div></section>`;
}

function checkForm(values: URLSearchParams, issues: readonly FieldIssue[]): Html {
  return html`<section id="check"><h2>Check an order</h2>
${issues.length > 0 ? html`<div class="problem" role="alert"><strong>The check was refused: nothing was written.</strong><ul>${issues.map((i) => html`<li>${i.field} ${i.message}</li>`)}</ul></div>` : ''}
<form class="request" method="post" action="/credit-checks/check">
${CHECK_FIELDS.map(
  ([k, label, hint]) =>
    html`<label for="check-${k}">${label}</label><div><input type="text" id="check-${k}" name="${k}" value="${values.get(k) ?? ''}" autocomplete="off"${issues.some((i) => i.field === k) ? html` aria-invalid="true"` : ''}></div><div><span class="hint">${hint}</span></div>
`,
)}
<div class="actions"><button type="submit">Check</button></div>
</form></section>`;
}

function releaseForm(h: HeldOrder, today: string, maxDays: number): Html {
  const id = `${h.customerId}-${h.orderId}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const pending = h.releases?.at(-1)?.status === 'pending' ? h.releases.at(-1) : undefined;
  if (pending)
    return html`release asked: <a href="/transfers/${encodeURIComponent(pending.transferId)}">${pending.transferId}</a> (until ${pending.until})`;
  return html`<details><summary>Request release</summary><form method="post" action="/credit-checks/release">
<input type="hidden" name="customerId" value="${h.customerId}"><input type="hidden" name="orderId" value="${h.orderId}">
<label for="r-reason-${id}">Reason</label> <input type="text" id="r-reason-${id}" name="reason" required minlength="3">
<label for="r-until-${id}">Until</label> <input type="date" id="r-until-${id}" name="until" min="${today}" max="${addDays(today, maxDays)}" value="${addDays(today, 7)}">
<label for="r-by-${id}">Requested by</label> <input type="text" id="r-by-${id}" name="requester" required>
<button type="submit">Request release</button></form></details>`;
}

function queueHtml(queue: readonly HeldOrder[], today: string, releases: boolean): Html {
  const intro = html`<form method="post" action="/credit-checks/recheck"><button type="submit">Re-check now</button> <span class="hint">every held order checked again as of today: a payment, a raise or a cancelled order may have cleared it</span></form>`;
  if (queue.length === 0)
    return html`<section id="holds"><h2>Hold queue</h2>${intro}<p>No order is held.</p></section>`;
  return html`<section id="holds"><h2>Hold queue</h2>${intro}
<p>${queue.length} held order${queue.length === 1 ? '' : 's'}, oldest first.</p>
<div class="wrap"><table><thead><tr><th>Customer</th><th>Order</th><th class="num">Amount</th><th>Reasons</th><th>Held since</th><th>Last checked</th><th>State</th>${releases ? html`<th>Release</th>` : ''}</tr></thead><tbody>
${queue.map(
  (h) =>
    html`<tr><td><a href="/customers/${encodeURIComponent(h.customerId)}">${h.customerId}</a></td><td>${h.orderId}</td>${minorCell(h.order.amount, h.order.currency)}<td class="reasons wide">${h.reasons.map((r) => html`<div title="${r.text}"><strong>${r.code}</strong>: ${r.text}</div>`)}</td><td>${h.heldOn}</td><td>${instant(h.lastCheckedAt)}</td><td><span class="${STATE_CLASS[h.state] ?? ''}">${h.state}</span></td>${releases ? html`<td>${releaseForm(h, today, 30)}</td>` : ''}</tr>`,
)}
</tbody></table></div></section>`;
}

function recheckHtml(r: RecheckReport): Html {
  return html`<section id="recheck-result" role="status"><h2>Re-checked ${r.rechecked} held order${r.rechecked === 1 ? '' : 's'}</h2>
<p>${r.released.length} released, ${r.held.length} still held, ${r.expired.length} expired${r.failed.length > 0 ? `, ${r.failed.length} failed` : ''}.</p>
<ul>${r.released.map((x) => html`<li>released ${x.customerId} ${x.orderId}: ${x.cleared.join(', ') || 'approved'} cleared</li>`)}${r.expired.map((x) => html`<li>expired ${x.customerId} ${x.orderId}, held since ${x.heldOn}</li>`)}${r.failed.map((x) => html`<li>failed ${x.customerId} ${x.orderId}: ${x.error}</li>`)}</ul></section>`;
}

/** GET /credit-checks, or the page after a form with what it did above the queue. */
export async function checksPage(
  c: ConsoleChecks,
  status = 200,
  top: Html | string = '',
  form: { values: URLSearchParams; issues: readonly FieldIssue[] } = {
    values: new URLSearchParams(),
    issues: [],
  },
): Promise<Reply> {
  const queue = (await c.deps.store.heldOrders?.()) ?? [];
  return htmlReply(
    status,
    'Credit checks',
    html`<h1>Credit checks</h1>
<p>May this order ship on credit? A check answers approve, approve-prepay, hold or block with its reasons. A held order waits in the hold queue: it releases itself when its cause clears (checked again after every evaluation run and every cancel), expires after the policy's days, or ships by exception when an order release is approved on the approval chain.</p>
${top}
${checkForm(form.values, form.issues)}
${queueHtml(queue, c.today(), c.releases !== undefined)}`,
    'checks',
  );
}

/** POST /credit-checks/check, /recheck and /release: the forms of the page. */
export async function checksForm(c: ConsoleChecks, path: string, req: IncomingMessage): Promise<Reply> {
  const f = await formFields(req, 'the Credit checks page');
  if (!(f instanceof URLSearchParams)) return f;
  const today = c.today();
  const now = new Date().toISOString();
  if (path === '/credit-checks/recheck') {
    const r = await recheckHeld(c.deps, await c.policy(), { today, now });
    return checksPage(c, 200, recheckHtml(r));
  }
  if (path === '/credit-checks/release') {
    if (!c.releases)
      return checksPage(c, 404, html`<p class="problem">Order releases are not available here.</p>`);
    const input = Object.fromEntries(
      ['customerId', 'orderId', 'reason', 'until', 'requester'].map((k) => [k, (f.get(k) ?? '').trim()]),
    );
    const r = await requestOrderRelease(c.releases, input);
    return r.ok
      ? checksPage(
          c,
          200,
          html`<p role="status" id="release-result">Order release of ${input.orderId} asked of the approval chain: <a href="/transfers/${encodeURIComponent(r.transferId)}">${r.transferId}</a>.</p>`,
        )
      : checksPage(
          c,
          r.status,
          html`<div class="problem" role="alert" id="release-result"><strong>The release was not asked.</strong><ul>${r.issues.map((i) => html`<li>${i.field} ${i.message}</li>`)}</ul></div>`,
        );
  }
  const values = f;
  const input: Record<string, string> = {};
  for (const [k] of CHECK_FIELDS) if ((f.get(k) ?? '').trim() !== '') input[k] = (f.get(k) ?? '').trim();
  const parsed = parseCheckRequest(input, today, 'console');
  if (!parsed.ok) return checksPage(c, 400, '', { values, issues: parsed.issues });
  try {
    const r = await checkCredit(c.deps, await c.policy(), parsed.order, { today, now });
    return checksPage(c, 200, resultHtml(r), { values, issues: [] });
  } catch (e) {
    if (e instanceof CheckRefusedError) return checksPage(c, 400, '', { values, issues: e.issues });
    throw e;
  }
}
