import { createHash } from 'node:crypto';
import { humanize, label } from '../alerts/format.ts';
import { formatMoney } from '../core/money.ts';
import { pointsText } from '../credit/assess.ts';
import type { ApprovalPageView } from './app.ts';
import { keyEvidence, MONEY_FIGURES, storedMoney } from './evidence.ts';
import type { GateCheck } from './gate.ts';
import type { Transfer } from './ports.ts';

/**
 * The approval page an approver opens from an email or Slack: the evidence first (the request,
 * the customer with its exposure, limit and unapplied cash, its open alerts, the gate's checks,
 * the decisions already taken with their comments, the chain), the decision form after it, and
 * only while a decision is still open. Every amount is written by `formatMoney`. It fits a phone:
 * label/value lists stack, and a table wider than the screen scrolls inside its own box.
 *
 * Its own renderer, not the email's evidence fragment (messages.ts): the page shows more than an
 * email can carry, and needs its own layout for narrow screens. Pure: no I/O.
 */

export const CSS = `*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;overflow-wrap:break-word}
main{max-width:56rem;margin:0 auto;padding:1rem 1rem 3rem}
h1{font-size:1.3rem;margin:.4rem 0}h2{font-size:1.08rem;margin:1.6rem 0 .4rem;padding-top:.6rem;border-top:1px solid #e2e5ea}
.muted{color:#5d6675}
.scroll{overflow-x:auto;max-width:100%;margin:.3rem 0 .8rem}
table{border-collapse:collapse}th,td{padding:.3rem .6rem;border-bottom:1px solid #e2e5ea;text-align:left;vertical-align:top}
th{background:#f4f5f7;white-space:nowrap}td.num,th.num{text-align:right;white-space:nowrap}
dl.kv{display:grid;grid-template-columns:minmax(9rem,max-content) 1fr;gap:.15rem 1rem;margin:.3rem 0}
dl.kv dt{color:#5d6675}dl.kv dd{margin:0}
@media (max-width:32rem){dl.kv{grid-template-columns:1fr;gap:0}dl.kv dd{margin:0 0 .45rem}
table.reflow thead{display:none}table.reflow,table.reflow tbody,table.reflow tr{display:block}
table.reflow tr{border-bottom:1px solid #e2e5ea;padding:.3rem 0}
table.reflow td{display:grid;grid-template-columns:6.5rem 1fr;gap:.6rem;border:0;padding:.1rem 0;text-align:left;white-space:normal}
table.reflow td::before{content:attr(data-label);color:#5d6675}}
ul.checks{list-style:none;padding:0;margin:.3rem 0}ul.checks li{padding:.45rem 0;border-bottom:1px solid #e2e5ea}
ul.checks .figures{display:block;color:#5d6675;font-size:.92em}
.badge{padding:0 .3rem;border-radius:3px;font-weight:600;white-space:nowrap}.bad{background:#fcebe9;color:#a8261b}.ok{background:#e6f4ea;color:#1e6b34}
.box{border:1px solid #e2e5ea;border-radius:6px;padding:1rem;margin:1.2rem 0;background:#f8f9fb}.box h2{border:0;padding:0;margin-top:0}
.problem{background:#fcebe9;border-left:4px solid #a8261b;padding:.8rem 1rem}
.done{background:#e6f4ea;border-left:4px solid #1e6b34;padding:.8rem 1rem}
label{display:block;margin:.6rem 0 .2rem;font-weight:600}
input[type=email],textarea{width:100%;max-width:32rem;padding:.4rem;font:inherit}
button{font:inherit;padding:.45rem 1.1rem;margin:.8rem .6rem 0 0;border-radius:4px;border:1px solid #888;cursor:pointer}
button.approve{background:#1e6b34;color:#fff;border-color:#1e6b34}button.reject{background:#a8261b;color:#fff;border-color:#a8261b}`;

/** The policy for a page whose one style sheet is `css`: that sheet, no script, forms to itself. */
const cspFor = (css: string) =>
  `default-src 'none'; style-src 'sha256-${createHash('sha256').update(css).digest('base64')}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`;
const CSP = cspFor(CSS);
/** Other pages' style sheets (the customer portal's) and their policies, made once each. */
const CSPS = new Map<string, string>([[CSS, CSP]]);

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'x-robots-tag': 'noindex, nofollow',
};

export interface PageResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Control characters (line breaks among them) become a space, as HTML would show them anyway. */
const CONTROL = /[\p{Cc}\u2028\u2029]+/gu;

export function escapeHtml(v: string | number): string {
  return String(v)
    .replace(CONTROL, ' ')
    .replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
    );
}

/**
 * A whole page: a strict CSP (its one stylesheet, no script), never cached, no referrer. `lang`
 * and `css` for a page in another language or with a style sheet of its own (the portal's).
 */
export function page(
  status: number,
  title: string,
  body: string,
  opts: { readonly lang?: string; readonly css?: string } = {},
): PageResponse {
  const css = opts.css ?? CSS;
  let csp = CSPS.get(css);
  if (csp === undefined) {
    csp = cspFor(css);
    CSPS.set(css, csp);
  }
  return {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      ...SECURITY_HEADERS,
    },
    body: `<!doctype html><html lang="${opts.lang ?? 'en'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${css}</style></head><body><main>${body}</main></body></html>`,
  };
}

/** An ISO instant as people read it: `2025-07-01 09:00 UTC`. */
function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function bucketLabel(bucket: string): string {
  const range = /^d(\d+)_(\d+)$/.exec(bucket);
  if (range) return `${range[1]}-${range[2]} days`;
  const over = /^over(\d+)$/.exec(bucket);
  if (over) return `Over ${over[1]} days`;
  return label(bucket);
}

const badge = (text: string, bad: boolean) =>
  `<span class="badge ${bad ? 'bad' : 'ok'}">${escapeHtml(text)}</span>`;

/** Label/value pairs, values already HTML. */
const kv = (pairs: readonly (readonly [string, string])[]) =>
  `<dl class="kv">${pairs.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;

/**
 * A table in its own scrolling box; cells are HTML already, `num` columns right aligned. Tables of
 * more than two columns reflow on a phone: each row becomes a card of "header: value" lines.
 */
function table(head: readonly string[], rows: readonly (readonly string[])[], num: readonly number[] = []) {
  const cls = (i: number) => (num.includes(i) ? ' class="num"' : '');
  const reflow = head.length > 2;
  const cell = (c: string, i: number) =>
    // The value in one element: the reflowed cell is a grid of its label and that element.
    reflow
      ? `<td${cls(i)} data-label="${escapeHtml(head[i] ?? '')}"><span>${c}</span></td>`
      : `<td${cls(i)}>${c}</td>`;
  return `<div class="scroll"><table${reflow ? ' class="reflow"' : ''}><thead><tr>${head.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map(cell).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

function requestSection(t: Transfer, requester: string): string {
  const r = t.request;
  const ccy = r.currency;
  const pairs: [string, string][] = [['Type', escapeHtml(humanize(r.type))]];
  if (t.limitChange)
    pairs.push([
      'Credit limit',
      `${t.limitChange.from === undefined ? 'none' : escapeHtml(formatMoney(t.limitChange.from, ccy))} to ${escapeHtml(formatMoney(t.limitChange.to, ccy))}`,
    ]);
  else if (t.policyChange)
    pairs.push(
      ['Credit policy', escapeHtml(`${t.policyChange.policyId} to replace ${t.policyChange.replaces}`)],
      ['SHA-256', `<code>${escapeHtml(t.policyChange.hash)}</code>`],
    );
  else if (t.limitBatch)
    pairs.push(['Limit changes', escapeHtml(`${t.limitBatch.count} of review ${t.limitBatch.runId}`)]);
  else
    pairs.push([
      'Amount',
      r.type === 'bank_account_change'
        ? 'none (a bank account change moves no money)'
        : `<strong>${escapeHtml(formatMoney(r.amount, ccy))}</strong>`,
    ]);
  pairs.push(
    ['Beneficiary', escapeHtml(r.beneficiaryName)],
    ['Beneficiary account', escapeHtml(r.beneficiaryAccount)],
    ['Reason', escapeHtml(r.reason)],
    // A credit application: what it asked, how the scorecard rated it, what it lacks.
    ...((t.application
      ? [
          ['Limit asked', escapeHtml(formatMoney(t.application.requestedLimit, ccy))],
          [
            'Scorecard',
            escapeHtml(
              `${t.application.score} of 100: rating ${t.application.rating} (${t.application.riskClass} risk)`,
            ),
          ],
          ['Initial limit', escapeHtml(t.application.basis.join('; '))],
          ['Missing', escapeHtml(t.application.missing.join('; '))],
          ...(t.application.flags.length > 0
            ? [['For the approvers', escapeHtml(t.application.flags.join('; '))]]
            : []),
        ]
      : []) as [string, string][]),
    // An order release: the held order, why it is held, the figures, until when it would ship.
    ...((t.orderRelease
      ? [
          [
            'Held order',
            escapeHtml(
              `${t.orderRelease.orderId}, ${formatMoney(t.orderRelease.orderAmount, t.orderRelease.orderCurrency)}, held since ${t.orderRelease.heldOn}`,
            ),
          ],
          ['Held for', escapeHtml(t.orderRelease.reasons.join(' '))],
          [
            'Exposure with it',
            escapeHtml(
              `${formatMoney(t.orderRelease.exposure, ccy)}; limit ${t.orderRelease.limit === null ? 'none' : formatMoney(t.orderRelease.limit, ccy)}; headroom after ${t.orderRelease.headroomAfter === null ? '-' : formatMoney(t.orderRelease.headroomAfter, ccy)}`,
            ),
          ],
          [
            'Rating',
            escapeHtml(
              t.orderRelease.rating === null
                ? 'not rated'
                : `${t.orderRelease.rating} (${t.orderRelease.riskClass} risk)`,
            ),
          ],
          ['Ships until', escapeHtml(t.orderRelease.until)],
        ]
      : []) as [string, string][]),
    ['Requested by', escapeHtml(requester)],
    ['Requested at', escapeHtml(when(t.requestedAt))],
    ['Status', escapeHtml(t.status)],
  );
  if (t.outcome) pairs.push(['Outcome', escapeHtml(t.outcome)]);
  return `<h2>The request</h2>${kv(pairs)}`;
}

function customerSection(v: Extract<ApprovalPageView, { ok: true }>): string {
  const t = v.transfer;
  const g = t.gate;
  if (t.limitBatch || t.policyChange) return '';
  const e = g?.exposure;
  const pairs: [string, string][] = [
    ['Customer', escapeHtml(v.customer.id)],
    [
      'Name',
      v.customer.name ? escapeHtml(v.customer.name) : '<span class="muted">no master data on file</span>',
    ],
  ];
  if (e) {
    const m = (s: string) => escapeHtml(storedMoney(s, e.currency));
    pairs.push(
      ['Exposure', `<strong>${m(e.exposure)}</strong>`],
      ['Credit limit', e.creditLimit === undefined ? 'none on file' : m(e.creditLimit)],
      ['Headroom', e.headroom === undefined ? 'none (no credit limit)' : m(e.headroom)],
      // The same figure the approval email and Slack message carry (evidence.ts).
      ['Headroom after this transfer', escapeHtml(keyEvidence(t).figures?.headroomAfter ?? 'not worked out')],
      [
        'Unapplied cash',
        e.unappliedCash === undefined
          ? '<span class="muted">not kept by the gate for this request (see the unapplied cash check below, for a refund)</span>'
          : `<strong>${m(e.unappliedCash)}</strong> <span class="muted">(what a refund or an overpayment return hands back)</span>`,
      ],
      ['Open', m(e.openAmount)],
      ['Overdue', `${m(e.overdueAmount)}, the oldest ${e.maxDaysPastDue} days past due`],
    );
    if (e.approvedTransfers) pairs.push(['Approved transfers counted', m(e.approvedTransfers)]);
  } else pairs.push(['Exposure', 'no receivables on file']);
  if (g)
    pairs.push([
      'Rating',
      escapeHtml(
        g.rating === undefined
          ? 'not rated'
          : [
              `rating ${g.rating}`,
              ...(g.score === undefined ? [] : [`score ${g.score}`]),
              ...(g.riskClass === undefined ? [] : [`${g.riskClass} risk`]),
            ].join(', '),
      ),
    ]);
  // One row per bucket: two columns fit any phone.
  const aging = e
    ? table(
        ['Age', 'Open amount'],
        Object.entries(e.aging).map(([b, x]) => [
          escapeHtml(bucketLabel(b)),
          escapeHtml(storedMoney(x, e.currency)),
        ]),
        [1],
      )
    : '';
  return `<h2>The customer${g ? ` <span class="muted">as of ${escapeHtml(g.asOf)}</span>` : ''}</h2>${kv(pairs)}${aging}`;
}

function alertsSection(t: Transfer): string {
  const alerts = t.gate?.activeAlerts;
  if (!alerts) return '';
  return `<h2>Open alerts (${alerts.length})</h2>${
    alerts.length === 0
      ? '<p>None.</p>'
      : table(
          ['Rule', 'Severity', 'Summary'],
          alerts.map((a) => [escapeHtml(a.rule), escapeHtml(a.severity), escapeHtml(a.summary)]),
        )
  }`;
}

function figuresOf(c: GateCheck, requestCurrency: string): string {
  const ccy = typeof c.figures.currency === 'string' ? c.figures.currency : requestCurrency;
  return Object.entries(c.figures)
    .filter(([k]) => k !== 'currency')
    .map(
      ([k, v]) =>
        // A field path (a policy change's diff) stays as the policy file writes it.
        `${escapeHtml(k.includes('.') ? k : label(k))}: ${escapeHtml(MONEY_FIGURES.has(k) ? storedMoney(v, ccy) : String(v))}`,
    )
    .join('; ');
}

function gateSection(t: Transfer): string {
  const g = t.gate;
  if (!g) return '<h2>The gate&#39;s checks</h2><p>Not run yet.</p>';
  const flags =
    g.flags.length > 0 ? g.flags.map((f) => badge(humanize(f), true)).join(' ') : badge('none', false);
  const checks = g.checks
    .map((c) => {
      const figures = figuresOf(c, t.request.currency);
      return `<li>${c.flag === undefined ? badge('passed', false) : badge(`flagged: ${humanize(c.flag)}`, true)} <strong>${escapeHtml(label(c.check))}</strong>: ${escapeHtml(c.summary)}${figures ? `<span class="figures">${figures}</span>` : ''}</li>`;
    })
    .join('');
  let batch = '';
  if (g.batch) {
    const b = g.batch;
    batch = `<h2>Limit changes asked for (${b.count})</h2>${table(
      ['Customer', 'Rating', 'Change', 'From', 'To', 'Exposure', 'Overdue', 'Why'],
      b.rows.map((r) => {
        const ccy = /([A-Z]{3})$/.exec(r.to)?.[1] ?? t.request.currency;
        const m = (x: string) => escapeHtml(storedMoney(x, ccy));
        return [
          escapeHtml(r.customer),
          escapeHtml(r.rating),
          escapeHtml(r.change),
          m(r.from),
          m(r.to),
          m(r.exposure),
          m(r.overdue),
          escapeHtml(r.why),
        ];
      }),
      [3, 4, 5, 6],
    )}${b.more > 0 ? `<p>And ${b.more} more, every one in the review run's report (CSV) and on the review's page.</p>` : ''}`;
  }
  return `<h2>The gate&#39;s checks <span class="muted">as of ${escapeHtml(g.asOf)}</span></h2><p>Flags: ${flags}</p><ul class="checks">${checks}</ul>${batch}`;
}

/** The scorecard's factors behind the rating: detail, so after the decisions and the chain. */
function ratingSection(t: Transfer): string {
  const g = t.gate;
  if (!g || g.ratingReasons.length === 0) return '';
  return `<h2>Rating reasons <span class="muted">weakest first</span></h2>${table(
    ['Points', 'Reason'],
    g.ratingReasons.map((x) => [escapeHtml(pointsText(x.points, x.maxPoints)), escapeHtml(x.reason)]),
    [0],
  )}`;
}

function decisionsSection(v: Extract<ApprovalPageView, { ok: true }>): string {
  const rows = v.decisions.map((d) => [
    escapeHtml(String(d.level)),
    `${escapeHtml(d.by)}${d.onBehalfOf ? ` <span class="muted">(for ${escapeHtml(d.onBehalfOf)})</span>` : ''}`,
    badge(d.decision, d.decision === 'rejected'),
    escapeHtml(`${when(d.at)}${d.via ? ` by ${d.via}` : ''}`),
    d.comment ? escapeHtml(d.comment) : '<span class="muted">no comment</span>',
  ]);
  return `<h2>Decisions so far</h2>${
    rows.length === 0
      ? '<p>None yet: this is the first decision on the transfer.</p>'
      : table(['Level', 'Who', 'Decision', 'When', 'Comment'], rows, [0])
  }`;
}

function chainSection(t: Transfer): string {
  if (!t.levels) return '';
  return `<h2>Approval chain</h2>${table(
    ['Level', 'Name', 'Required', 'Approvers'],
    t.levels.map((l) => [
      `${l.level}${t.status === 'pending' && t.level === l.level ? ` ${badge('waiting', true)}` : ''}`,
      escapeHtml(l.name),
      escapeHtml(`${l.required} of ${l.approvers.length}`),
      l.approvers
        .map((a) => escapeHtml(a.onBehalfOf ? `${a.name} (for ${a.onBehalfOf})` : a.name))
        .join('<br>'),
    ]),
    [2],
  )}${t.chainWhy && t.chainWhy.length > 0 ? `<p class="muted">Why: ${t.chainWhy.map(escapeHtml).join('; ')}</p>` : ''}`;
}

/** What the form shows again after a refusal it can be fixed on (a rejection without a reason). */
export interface FormState {
  readonly problem?: string | undefined;
  readonly email?: string | undefined;
  readonly comment?: string | undefined;
}

function decisionForm(v: Extract<ApprovalPageView, { ok: true }>, f: FormState): string {
  const { approval, transfer, approver } = v;
  const level = transfer.levels?.find((l) => l.level === approval.level);
  return `<form method="post" class="box" id="decide">
<h2>Your decision</h2>
<p>This link was sent to <strong>${escapeHtml(approver.name)}</strong>${approval.onBehalfOf ? ` (standing in for ${escapeHtml(approval.onBehalfOf)})` : ''} for level ${approval.level} of ${transfer.levels?.length ?? approval.level}${level ? ` (${escapeHtml(level.name)}, ${level.required} approval${level.required === 1 ? '' : 's'} needed)` : ''}. It works until ${escapeHtml(when(approval.expiresAt))}.</p>
${f.problem ? `<p class="problem" role="alert">${escapeHtml(f.problem)}</p>` : ''}
<label for="email">Your email address (to confirm you are ${escapeHtml(approver.name)})</label>
<input type="email" id="email" name="email" required autocomplete="email" value="${escapeHtml(f.email ?? '')}">
<label for="comment">Comment: required to reject (the reason goes to the requester); kept on the audit trail</label>
<textarea id="comment" name="comment" rows="3" maxlength="1000">${escapeHtml(f.comment ?? '')}</textarea>
<div><button type="submit" name="decision" value="approve" class="approve">Approve</button><button type="submit" name="decision" value="reject" class="reject">Reject</button></div>
</form>`;
}

/** Why this link can decide nothing (decided, void, or the transfer closed); undefined while open. */
function closedNote(v: Extract<ApprovalPageView, { ok: true }>): string | undefined {
  const { approval, transfer, approver } = v;
  if (approval.status === 'pending' && transfer.status === 'pending') return undefined;
  if (approval.status === 'approved' || approval.status === 'rejected')
    return `Already decided: ${approval.status} by ${approver.name} at ${when(approval.decidedAt ?? '')}${approval.comment ? ` (“${approval.comment}”)` : ''}. There is nothing left to decide here.`;
  return `This approval is no longer open${approval.voidReason ? ` (${approval.voidReason})` : ''}; the transfer is ${transfer.status}. There is nothing left to decide here.`;
}

/** The approval page: the evidence, then the form while a decision is open (or why there is none). */
export function approvalPage(
  v: Extract<ApprovalPageView, { ok: true }>,
  f: FormState = {},
  status = 200,
): PageResponse {
  const { approval, transfer } = v;
  const closed = closedNote(v);
  const of = transfer.levels?.length ?? approval.level;
  const intro = closed
    ? `<p class="problem">${escapeHtml(closed)}</p>`
    : `<p>Opening this page records nothing. Read the evidence, then decide below.</p>`;
  return page(
    status,
    `Approve ${transfer.transferId}`,
    `<h1>Transfer ${escapeHtml(transfer.transferId)}: level ${approval.level} of ${of}</h1>
${intro}
<section class="evidence">
${requestSection(transfer, v.requester)}
${customerSection(v)}
${alertsSection(transfer)}
${gateSection(transfer)}
${decisionsSection(v)}
${chainSection(transfer)}
${ratingSection(transfer)}
</section>
${closed ? '' : decisionForm(v, f)}`,
  );
}
