import { humanize, label, truncate } from '../alerts/format.ts';
import { escapeMrkdwn } from '../alerts/slack.ts';
import { formatDecimalMoney, formatMoney } from '../core/money.ts';
import { pointsText } from '../credit/assess.ts';
import {
  alertCounts,
  decisionWords,
  type KeyEvidence,
  keyEvidence,
  MONEY_FIGURES,
  storedMoney,
} from './evidence.ts';
import type { BatchTable, GateExposure } from './gate.ts';
import type { ApprovalNotice, Transfer } from './ports.ts';

/**
 * What the transfer workflow says to people: the evidence an approver decides on (text and an
 * HTML fragment the approval page embeds as well), the approval emails of every notice kind, the
 * `.eml` file they travel as, and the Slack message with its Approve/Reject buttons. Pure: no I/O.
 *
 * Every value of a request is data typed by someone else (the requester, a customer's master
 * data): HTML escapes all of it, mrkdwn escapes all of it, subjects and headers never get a line
 * break from it. A token only ever appears inside the link it belongs to (and, in Slack, as the
 * button value the signed interaction carries back).
 */

// ---- shared wording ----

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]+/gu;

/** A value on one line: control characters (line breaks among them) become a space. */
const one = (v: string | number): string => String(v).replace(CONTROL, ' ').trim();

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const moves = (t: Transfer) => t.request.type !== 'bank_account_change';

/** `12,500.00 EUR` */
const amountOf = (t: Transfer) => formatMoney(t.request.amount, one(t.request.currency));

/**
 * A review's limit change in words: `credit limit of C1001 from 90,000.00 EUR to 120,000.00 EUR`, or
 * `12 credit limit changes of review <run>`; undefined for a transfer that is not one.
 */
function limitWhat(t: Transfer): string | undefined {
  const ccy = one(t.request.currency);
  const m = (v: number) => formatMoney(v, ccy);
  if (t.limitBatch) return `${t.limitBatch.count} credit limit changes of review ${one(t.limitBatch.runId)}`;
  if (t.policyChange)
    return `credit policy change: ${one(t.policyChange.policyId)} to replace ${one(t.policyChange.replaces)} (${t.policyChange.changes} field${t.policyChange.changes === 1 ? '' : 's'} change)`;
  const l = t.limitChange;
  if (!l) return undefined;
  return `credit limit of ${one(t.request.customerId)} from ${l.from === undefined ? 'none' : m(l.from)} to ${m(l.to)}`;
}

/** `refund 12,500.00 EUR to ACME GmbH (C1001)`; a bank account change has no amount. */
function what(t: Transfer): string {
  const r = t.request;
  return (
    limitWhat(t) ??
    `${humanize(r.type)}${moves(t) ? ` ${amountOf(t)}` : ''} to ${one(r.beneficiaryName)} (${one(r.customerId)})`
  );
}

/** An ISO instant as people read it: `2025-07-01 09:00 UTC` (as given when it does not parse). */
function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? one(iso) : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Aging bucket names: `notDue` -> `Not due`, `d31_60` -> `31-60 days`, `over180` -> `Over 180 days`. */
function bucketLabel(bucket: string): string {
  const range = /^d(\d+)_(\d+)$/.exec(bucket);
  if (range) return `${range[1]}-${range[2]} days`;
  const over = /^over(\d+)$/.exec(bucket);
  if (over) return `Over ${over[1]} days`;
  return label(bucket);
}

const SUBJECT_MAX = 200;

/** One line, at most 200 characters, whatever the data holds. */
const subjectLine = (s: string) => truncate(s.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim(), SUBJECT_MAX);

type NoticeLevel = Extract<ApprovalNotice, { kind: 'escalate' }>['level'];

const levelOf = (l: NoticeLevel) => `level ${l.level} of ${l.of}`;

const STATUS_WORDS: Record<Transfer['status'], string> = {
  pending: 'is still pending',
  approved: 'was approved',
  rejected: 'was rejected',
  recalled: 'was recalled',
  expired: 'expired',
  refused: 'was refused',
  failed:
    'failed (a step of its approval went wrong after its retries; ops are alerted, and it can be retried or recalled)',
};

// ---- the evidence ----

type Pairs = readonly (readonly [string, string])[];

/** Everything an approver sees, in one shape the text and the HTML are both rendered from. */
interface Evidence {
  readonly request: Pairs;
  readonly gate?:
    | {
        readonly asOf: string;
        readonly flags: readonly string[];
        readonly checks: readonly {
          readonly name: string;
          /** The flag's words when it raised one. */
          readonly flag?: string | undefined;
          readonly summary: string;
          readonly figures: Pairs;
        }[];
        readonly exposure?:
          | { readonly currency: string; readonly rows: Pairs; readonly aging: Pairs }
          | undefined;
        readonly rating: string;
        readonly reasons: readonly { readonly points: string; readonly reason: string }[];
        readonly alerts: readonly {
          readonly severity: string;
          readonly rule: string;
          readonly summary: string;
        }[];
        /** A review's batch of limit changes: its rows as the approvers read them. */
        readonly batch?: BatchTable | undefined;
      }
    | undefined;
  readonly chain?:
    | {
        readonly levels: readonly {
          readonly level: string;
          readonly name: string;
          readonly required: string;
          readonly approvers: readonly string[];
          readonly waiting: boolean;
        }[];
        readonly why: readonly string[];
      }
    | undefined;
}

/** The gate's exposure (plain decimals, as stored) with every amount as a person reads it. */
function exposureOf(x: GateExposure): NonNullable<NonNullable<Evidence['gate']>['exposure']> {
  const m = (v: string) => formatDecimalMoney(v, x.currency);
  return {
    currency: x.currency,
    rows: [
      ['Open', m(x.openAmount)],
      ['Overdue', m(x.overdueAmount)],
      ...(x.approvedTransfers ? ([['Approved transfers counted', m(x.approvedTransfers)]] as const) : []),
      ['Exposure', m(x.exposure)],
      ['Credit limit', x.creditLimit === undefined ? 'none on file' : m(x.creditLimit)],
      ['Headroom', x.headroom === undefined ? 'none (no credit limit)' : m(x.headroom)],
      ['Max days past due', String(x.maxDaysPastDue)],
    ],
    aging: Object.entries(x.aging).map(([b, v]) => [bucketLabel(b), m(v)] as const),
  };
}

function evidenceOf(t: Transfer): Evidence {
  const r = t.request;
  const request: [string, string][] = [
    ['Transfer', t.transferId],
    ['Status', t.status],
    ['Customer', r.customerId],
    ['Type', humanize(r.type)],
    ['Amount', moves(t) ? amountOf(t) : 'none (a bank account change moves no money)'],
    ['Beneficiary', r.beneficiaryName],
    ['Beneficiary account', r.beneficiaryAccount],
    ['Reason', r.reason],
    ['Requested by', r.requester],
    ['Requested at', when(t.requestedAt)],
  ];
  // A credit application: what it asked, how the scorecard rated it, what it lacks.
  const a = t.application;
  if (a)
    request.push(
      ['Application', a.applicationId],
      ['Limit asked', formatMoney(a.requestedLimit, one(r.currency))],
      ['Scorecard', `${a.score} of 100: rating ${a.rating} (${a.riskClass} risk)`],
      ['Initial limit', a.basis.join('; ')],
      ['Missing', a.missing.join('; ')],
      ...(a.flags.length > 0 ? [['For the approvers', a.flags.join('; ')] as [string, string]] : []),
    );
  // An order release: the held order, why it is held, the figures, until when it would ship.
  const o = t.orderRelease;
  if (o) {
    const ccy = one(r.currency);
    request.push(
      ['Held order', `${o.orderId}, ${formatMoney(o.orderAmount, o.orderCurrency)}, held since ${o.heldOn}`],
      ['Held for', o.reasons.join(' ')],
      [
        'Exposure with it',
        `${formatMoney(o.exposure, ccy)}; limit ${o.limit === null ? 'none' : formatMoney(o.limit, ccy)}; headroom after ${o.headroomAfter === null ? '-' : formatMoney(o.headroomAfter, ccy)}`,
      ],
      ['Rating', o.rating === null ? 'not rated' : `${o.rating} (${o.riskClass} risk)`],
      ['Ships until', o.until],
    );
  }
  if (t.closedAt) request.push(['Closed at', when(t.closedAt)]);
  if (t.closedBy) request.push(['Closed by', t.closedBy]);
  if (t.outcome) request.push(['Outcome', t.outcome]);

  const g = t.gate;
  const gate: Evidence['gate'] = g && {
    asOf: g.asOf,
    flags: g.flags.map(humanize),
    checks: g.checks.map((c) => ({
      name: label(c.check),
      flag: c.flag === undefined ? undefined : humanize(c.flag),
      summary: c.summary,
      // Amounts as the approval page writes them ("32,000.00 EUR"); the currency is in each.
      figures: Object.entries(c.figures)
        .filter(([k]) => k !== 'currency')
        .map(([k, v]) => {
          const ccy = typeof c.figures.currency === 'string' ? c.figures.currency : r.currency;
          // A field path (a policy change's diff) stays as the policy file writes it.
          return [
            k.includes('.') ? k : label(k),
            MONEY_FIGURES.has(k) ? storedMoney(v, ccy) : String(v),
          ] as const;
        }),
    })),
    exposure: g.exposure && exposureOf(g.exposure),
    rating:
      g.rating === undefined
        ? 'not rated'
        : [
            `rating ${g.rating}`,
            ...(g.score === undefined ? [] : [`score ${g.score}`]),
            ...(g.riskClass === undefined ? [] : [`${g.riskClass} risk`]),
            ...(g.policyId === undefined ? [] : [`policy ${g.policyId}`]),
          ].join(', '),
    reasons: g.ratingReasons.map((x) => ({ points: pointsText(x.points, x.maxPoints), reason: x.reason })),
    alerts: g.activeAlerts.map((a) => ({ severity: a.severity, rule: a.rule, summary: a.summary })),
    batch: g.batch,
  };

  const chain: Evidence['chain'] = t.levels && {
    levels: t.levels.map((l) => ({
      level: String(l.level),
      name: l.name,
      required: `${l.required} of ${l.approvers.length}`,
      approvers: l.approvers.map((a) => (a.onBehalfOf ? `${a.name} (for ${a.onBehalfOf})` : a.name)),
      waiting: t.status === 'pending' && t.level === l.level,
    })),
    why: t.chainWhy ?? [],
  };
  return { request, gate, chain };
}

const BATCH_HEAD = ['Customer', 'Rating', 'Change', 'From', 'To', 'Exposure', 'Overdue', 'Why'] as const;
const batchCells = (r: BatchTable['rows'][number]) => [
  r.customer,
  r.rating,
  r.change,
  r.from,
  r.to,
  r.exposure,
  r.overdue,
  r.why,
];
const batchMore = (b: BatchTable) =>
  b.more > 0 ? `and ${b.more} more, every one in the review run's report (CSV) and on the review's page` : '';

/** A batch's table as lines of text: every row shown, and how many more there are and where. */
function batchText(b: BatchTable): string[] {
  const out = [`LIMIT CHANGES ASKED FOR (${b.count})`];
  for (const r of b.rows)
    out.push(
      `  - ${one(r.customer)}, rating ${one(r.rating)}: ${one(r.change)} ${one(r.from)} -> ${one(r.to)} (exposure ${one(r.exposure)}, overdue ${one(r.overdue)}): ${one(r.why)}`,
    );
  if (b.more > 0) out.push(`  ... ${batchMore(b)}`);
  return out;
}

/** The evidence as plain text: what the text email carries. */
export function evidenceText(t: Transfer): string {
  const e = evidenceOf(t);
  const out: string[] = ['REQUEST', ...e.request.map(([k, v]) => `  ${k}: ${one(v)}`)];
  const g = e.gate;
  if (!g) out.push('', 'RISK GATE', '  not run yet');
  else {
    out.push(
      '',
      `RISK GATE (as of ${one(g.asOf)})`,
      `  Flags: ${g.flags.length > 0 ? g.flags.map(one).join(', ') : 'none'}`,
      '  Checks:',
    );
    for (const c of g.checks) {
      out.push(
        `  - [${c.flag === undefined ? 'passed' : `FLAGGED: ${one(c.flag)}`}] ${c.name}: ${one(c.summary)}`,
      );
      if (c.figures.length > 0) out.push(`      ${c.figures.map(([k, v]) => `${k}: ${one(v)}`).join('; ')}`);
    }
    if (g.batch) out.push('', ...batchText(g.batch));
    if (g.exposure) {
      out.push('', `EXPOSURE AND AGING (${one(g.exposure.currency)})`);
      out.push(...g.exposure.rows.map(([k, v]) => `  ${k}: ${one(v)}`));
      out.push('  Aging:', ...g.exposure.aging.map(([k, v]) => `    ${k}: ${one(v)}`));
    }
    out.push('', 'RATING', `  ${one(g.rating)}`);
    if (g.reasons.length > 0)
      out.push('  Reasons (weakest first):', ...g.reasons.map((x) => `    ${x.points}  ${one(x.reason)}`));
    out.push('', 'ACTIVE ALERTS');
    if (g.alerts.length === 0) out.push('  none');
    else out.push(...g.alerts.map((a) => `  - [${one(a.severity)}] ${one(a.rule)}: ${one(a.summary)}`));
  }
  if (e.chain) {
    out.push('', 'APPROVAL CHAIN');
    for (const l of e.chain.levels)
      out.push(
        `  Level ${l.level} (${one(l.name)}): ${l.required} required: ${l.approvers.map(one).join(', ')}${l.waiting ? '  <- waiting' : ''}`,
      );
    if (e.chain.why.length > 0) out.push(`  Why: ${e.chain.why.map(one).join('; ')}`);
  }
  return out.join('\n');
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for HTML element content and quoted attribute values alike; control characters
 * (line breaks among them) become a space, as HTML would show them anyway.
 */
function escapeHtml(v: string | number): string {
  return String(v)
    .replace(CONTROL, ' ')
    .replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

/**
 * Inline styles, only for the email: the approval page styles the fragment with its own sheet by
 * class (a strict CSP there refuses style attributes), mail clients need them inline.
 */
const INLINE = {
  section: 'font:14px/1.45 Arial,Helvetica,sans-serif;color:#1d2430',
  title: 'margin:18px 0 6px;font-size:15px',
  p: 'margin:4px 0',
  table: 'border-collapse:collapse;margin:4px 0 8px',
  th: 'padding:4px 8px;border-bottom:1px solid #e2e5ea;background:#f4f5f7;text-align:left;vertical-align:top',
  td: 'padding:4px 8px;border-bottom:1px solid #e2e5ea;text-align:left;vertical-align:top',
  num: 'padding:4px 8px;border-bottom:1px solid #e2e5ea;text-align:right;vertical-align:top',
  dl: 'margin:0',
  // Stacked, label over value: side by side they leave a phone too little width for an IBAN.
  dt: 'margin:6px 0 0;color:#5d6675',
  dd: 'margin:0 0 2px 0',
  bad: 'padding:0 4px;background:#fcebe9;color:#a8261b',
  ok: 'padding:0 4px;background:#e6f4ea;color:#1e6b34',
} as const;
type StyleName = keyof typeof INLINE;

function renderEvidenceHtml(t: Transfer, inline: boolean): string {
  /** ` class="..."` (constant names, never data), plus the inline style in an email. */
  const at = (cls: string | undefined, style: StyleName) =>
    `${cls ? ` class="${cls}"` : ''}${inline ? ` style="${INLINE[style]}"` : ''}`;
  const title = (text: string, note?: string) =>
    `<p${at('title', 'title')}><strong>${escapeHtml(text)}</strong>${note ? ` ${escapeHtml(note)}` : ''}</p>`;
  const p = (html: string) => `<p${at(undefined, 'p')}>${html}</p>`;
  const dl = (pairs: Pairs) =>
    `<dl${at('kv', 'dl')}>${pairs.map(([k, v]) => `<dt${at(undefined, 'dt')}>${escapeHtml(k)}</dt><dd${at(undefined, 'dd')}>${escapeHtml(v)}</dd>`).join('')}</dl>`;
  /** A table; cells are HTML already escaped by the caller, `num` columns are right aligned. */
  const table = (
    head: readonly string[],
    rows: readonly (readonly string[])[],
    num: readonly number[] = [],
  ) =>
    // In an email, a table wider than a phone scrolls inside its own box, never the message.
    `${inline ? '<div style="overflow-x:auto;max-width:100%">' : ''}<table${at(undefined, 'table')}><thead><tr>${head.map((h) => `<th${at(undefined, 'th')}>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
      .map(
        (r) =>
          `<tr>${r.map((c, i) => (num.includes(i) ? `<td${at('num', 'num')}>${c}</td>` : `<td${at('text', 'td')}>${c}</td>`)).join('')}</tr>`,
      )
      .join('')}</tbody></table>${inline ? '</div>' : ''}`;
  const badge = (text: string, bad: boolean) =>
    `<strong${at(bad ? 'badge bad' : 'badge ok', bad ? 'bad' : 'ok')}>${escapeHtml(text)}</strong>`;

  const e = evidenceOf(t);
  const out: string[] = [`<section class="evidence"${inline ? ` style="${INLINE.section}"` : ''}>`];
  out.push(title('Request'), dl(e.request));
  const g = e.gate;
  if (!g) out.push(title('Risk gate'), p('Not run yet.'));
  else {
    out.push(
      title('Risk gate', `as of ${g.asOf}`),
      p(`Flags: ${g.flags.length > 0 ? g.flags.map((f) => badge(f, true)).join(' ') : badge('none', false)}`),
      // An email lists the checks, one under the other: a four-column table does not fit a phone.
      inline
        ? `<ul style="margin:4px 0 8px;padding-left:20px">${g.checks
            .map(
              (c) =>
                `<li style="margin:4px 0">${c.flag === undefined ? badge('passed', false) : badge(`flagged: ${c.flag}`, true)} <strong>${escapeHtml(c.name)}</strong>: ${escapeHtml(c.summary)}${c.figures.length > 0 ? `<br><span style="color:#5d6675">${c.figures.map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(v)}`).join('; ')}</span>` : ''}</li>`,
            )
            .join('')}</ul>`
        : table(
            ['Check', 'Result', 'Finding', 'Figures'],
            g.checks.map((c) => [
              escapeHtml(c.name),
              c.flag === undefined ? badge('passed', false) : badge(`flagged: ${c.flag}`, true),
              escapeHtml(c.summary),
              c.figures.map(([k, v]) => `${escapeHtml(k)}: ${escapeHtml(v)}`).join('<br>'),
            ]),
          ),
    );
    if (g.batch) {
      const b = g.batch;
      out.push(
        title('Limit changes asked for', `(${b.count})`),
        table(
          BATCH_HEAD,
          b.rows.map((r) => batchCells(r).map(escapeHtml)),
          [3, 4, 5, 6],
        ),
      );
      if (b.more > 0) out.push(p(escapeHtml(`${batchMore(b)}.`)));
    }
    if (g.exposure)
      out.push(
        title('Exposure and aging', `in ${g.exposure.currency}`),
        dl(g.exposure.rows),
        // In an email one row per bucket: seven columns do not fit a phone.
        inline
          ? table(
              ['Age', 'Open amount'],
              g.exposure.aging.map(([k, v]) => [escapeHtml(k), escapeHtml(v)]),
              [1],
            )
          : table(
              g.exposure.aging.map(([k]) => k),
              [g.exposure.aging.map(([, v]) => escapeHtml(v))],
              g.exposure.aging.map((_, i) => i),
            ),
      );
    out.push(title('Rating'), p(escapeHtml(g.rating)));
    if (g.reasons.length > 0)
      out.push(
        table(
          ['Points', 'Reason (weakest first)'],
          g.reasons.map((x) => [escapeHtml(x.points), escapeHtml(x.reason)]),
          [0],
        ),
      );
    out.push(title('Active alerts'));
    if (g.alerts.length === 0) out.push(p('None.'));
    else
      out.push(
        table(
          ['Severity', 'Rule', 'Summary'],
          g.alerts.map((a) => [escapeHtml(a.severity), escapeHtml(a.rule), escapeHtml(a.summary)]),
        ),
      );
  }
  if (e.chain) {
    out.push(
      title('Approval chain'),
      table(
        ['Level', 'Name', 'Required', 'Approvers'],
        e.chain.levels.map((l) => [
          `${escapeHtml(l.level)}${l.waiting ? ` ${badge('waiting', true)}` : ''}`,
          escapeHtml(l.name),
          escapeHtml(l.required),
          l.approvers.map(escapeHtml).join('<br>'),
        ]),
        [2],
      ),
    );
    if (e.chain.why.length > 0) out.push(p(`Why: ${e.chain.why.map(escapeHtml).join('; ')}`));
  }
  out.push('</section>');
  return out.join('\n');
}

/**
 * The evidence as an HTML fragment rooted at `<section class="evidence">`: the approval page
 * embeds it as is (styled by class, the console's `dl.kv`, `.badge`, `.num`), every data value
 * escaped, no script, no style attribute, nothing loaded from elsewhere.
 */
export function evidenceHtml(t: Transfer): string {
  return renderEvidenceHtml(t, false);
}

// ---- what an approver needs to decide ----

/** The key facts as label/value pairs: the customer, the amount, the exposure and the cash. */
function keyPairs(k: KeyEvidence): [string, string][] {
  const pairs: [string, string][] = [];
  if (k.customer)
    pairs.push([
      'Customer',
      k.customer.name ? `${k.customer.name} (${k.customer.id})` : `${k.customer.id} (no master data on file)`,
    ]);
  pairs.push(['Amount', k.amount]);
  const f = k.figures;
  if (f)
    pairs.push(
      ['Exposure', `${f.exposure} (as of ${f.asOf})`],
      ['Credit limit', f.creditLimit],
      ['Headroom', f.headroom],
      ['Headroom after this transfer', f.headroomAfter],
      ['Unapplied cash', f.unappliedCash],
      ...(f.cashNeeded ? ([['What it needs', f.cashNeeded]] as [string, string][]) : []),
    );
  else if (k.noFigures) pairs.push(['Exposure', k.noFigures]);
  return pairs;
}

const decisionLine = (d: NonNullable<KeyEvidence['decisions']>[number]) =>
  `${decisionWords(d, when)}: ${d.comment ? `"${one(d.comment)}"` : 'no comment'}`;

/** The key facts as text lines, under their own heading, before the link. */
function keyText(k: KeyEvidence, heading: string): string[] {
  const out = [heading.toUpperCase(), ...keyPairs(k).map(([l, v]) => `  ${l}: ${one(v)}`)];
  const a = k.alerts;
  if (a) {
    out.push(`  Open alerts: ${alertCounts(a)}`);
    out.push(...a.top.map((x) => `    - [${one(x.severity)}] ${one(x.rule)}: ${one(x.summary)}`));
    if (a.more > 0) out.push(`    ... and ${a.more} more, every one in the evidence below`);
  }
  if (k.decisions) {
    if (k.decisions.length === 0) out.push('  Decisions so far: none yet');
    else out.push('  Decisions so far:', ...k.decisions.map((d) => `    - ${one(decisionLine(d))}`));
  }
  return out;
}

/**
 * The key facts as HTML with inline styles: one "label: value" paragraph each, which wraps on any
 * screen (a two-column list or table would not fit a phone with a long name in it).
 */
function keyHtml(k: KeyEvidence, heading: string): string {
  const row = (label: string, valueHtml: string) =>
    `<p style="margin:3px 0"><span style="color:#5d6675">${escapeHtml(label)}:</span> ${valueHtml}</p>`;
  const strong = new Set(['Customer', 'Amount', 'Headroom after this transfer', 'Unapplied cash']);
  const out = [
    `<div class="key-evidence" style="margin:12px 0;padding:10px 12px;border:1px solid #e2e5ea;border-radius:6px;background:#f8f9fb">`,
    `<p style="margin:0 0 6px"><strong>${escapeHtml(heading)}</strong></p>`,
    ...keyPairs(k).map(([l, v]) => {
      // The figure in bold, how it was worked out (in brackets) not.
      const cut = v.indexOf(' (');
      const [head, tail] = cut > 0 ? [v.slice(0, cut), v.slice(cut)] : [v, ''];
      return row(
        l,
        strong.has(l) ? `<strong>${escapeHtml(head)}</strong>${escapeHtml(tail)}` : escapeHtml(v),
      );
    }),
  ];
  const a = k.alerts;
  if (a) {
    out.push(row('Open alerts', escapeHtml(alertCounts(a))));
    if (a.top.length > 0)
      out.push(
        `<ul style="margin:2px 0 4px;padding-left:20px">${a.top
          .map(
            (x) =>
              `<li style="margin:2px 0"><strong>${escapeHtml(x.severity)}</strong> ${escapeHtml(x.rule)}: ${escapeHtml(x.summary)}</li>`,
          )
          .join(
            '',
          )}${a.more > 0 ? `<li style="margin:2px 0">and ${a.more} more, every one in the evidence below</li>` : ''}</ul>`,
      );
  }
  if (k.decisions) {
    if (k.decisions.length === 0) out.push(row('Decisions so far', 'none yet'));
    else
      out.push(
        row('Decisions so far', ''),
        `<ul style="margin:2px 0 4px;padding-left:20px">${k.decisions
          .map(
            (d) =>
              `<li style="margin:2px 0">${escapeHtml(decisionWords(d, when))}: ${d.comment ? `<em>&ldquo;${escapeHtml(d.comment)}&rdquo;</em>` : 'no comment'}</li>`,
          )
          .join('')}</ul>`,
      );
  }
  out.push('</div>');
  return out.join('\n');
}

// ---- the approval emails ----

export interface Email {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Only a web link may become the call to action. */
function checkedUrl(url: string): string {
  if (!/^https?:\/\/[^\s]+$/i.test(url)) throw new Error('the approval link must be an http(s) URL');
  return url;
}

/** The subject of a notice, on one line and at most 200 characters. */
function subjectOf(n: ApprovalNotice): string {
  const t = n.transfer;
  switch (n.kind) {
    case 'approve':
      return subjectLine(`Approve: ${what(t)}, ${levelOf(n.level)}`);
    case 'remind':
      return subjectLine(`Reminder ${n.reminder}: approve ${what(t)}, ${levelOf(n.level)}`);
    case 'escalate':
      return subjectLine(
        `Overdue approval: ${what(t)}, ${levelOf(n.level)} waiting on ${n.waitingOn.map(one).join(', ') || 'nobody named'}`,
      );
    case 'outcome':
      return subjectLine(
        `Transfer ${t.transferId} ${t.status}${t.closedBy ? ` by ${one(t.closedBy)}` : ''}: ${what(t)}${t.outcome ? ` - ${one(t.outcome)}` : ''}`,
      );
  }
}

/** The paragraphs of a notice before the evidence: `text` is plain, `html` is escaped markup. */
interface Paragraph {
  readonly text: string;
  readonly html: string;
}
const para = (text: string): Paragraph => ({ text, html: escapeHtml(text) });

function requestPhrase(t: Transfer): string {
  const r = t.request;
  const limit = limitWhat(t);
  if (limit)
    return `a change of the ${limit.replace(/^(\d+) credit limit changes/, '$1 credit limits')} (no money moves)`;
  return moves(t)
    ? `a ${humanize(r.type)} of ${amountOf(t)} to ${one(r.beneficiaryName)} for customer ${one(r.customerId)}`
    : `a bank account change to ${one(r.beneficiaryName)} (${one(r.beneficiaryAccount)}) for customer ${one(r.customerId)}`;
}

const BUTTON =
  'display:inline-block;padding:10px 18px;background:#1f5fbf;color:#ffffff;text-decoration:none;border-radius:4px;font-weight:bold';
const MUTED = 'margin:8px 0;color:#5d6675';
const P = 'margin:8px 0';

/** Subject, text and HTML email of any notice. The link, when there is one, appears once in each body. */
export function approvalEmail(n: ApprovalNotice): Email {
  const t = n.transfer;
  const subject = subjectOf(n);
  const intro: Paragraph[] = [];
  let link: { url: string; after: Paragraph[] } | undefined;
  switch (n.kind) {
    case 'approve':
    case 'remind': {
      const url = checkedUrl(n.url);
      if (n.kind === 'remind')
        intro.push(para(`Reminder ${n.reminder}: this request is still waiting for your decision.`));
      intro.push(
        para(
          `Your approval is requested for ${requestPhrase(t)}: ${levelOf(n.level)} (${one(n.level.name)}, ${plural(n.level.required, 'approval')} needed). Transfer ${t.transferId}.`,
        ),
      );
      if (n.onBehalfOf) intro.push(para(`You decide on behalf of ${one(n.onBehalfOf)}, who is away.`));
      link = {
        url,
        after: [
          para('Opening the link only shows the request; the decision is made on the page.'),
          para(`The link works until ${when(n.expiresAt)}. It is yours alone: do not forward it.`),
        ],
      };
      break;
    }
    case 'escalate':
      intro.push(
        para(
          `Transfer ${t.transferId} is overdue: ${levelOf(n.level)} (${one(n.level.name)}) of ${requestPhrase(t)} is still unanswered after every reminder, waiting on ${n.waitingOn.map(one).join(', ') || 'nobody named'}.`,
        ),
        para('This message carries no link to decide: the approvers of the level have theirs.'),
      );
      break;
    case 'outcome':
      intro.push(
        para(
          `Transfer ${t.transferId}, ${requestPhrase(t)}, ${STATUS_WORDS[t.status]}${t.closedBy ? ` by ${one(t.closedBy)}` : ''}${t.closedAt ? ` at ${when(t.closedAt)}` : ''}.`,
        ),
      );
      if (t.outcome) intro.push(para(`Outcome: ${one(t.outcome)}`));
      break;
  }
  const greeting = para(`Hello ${one(n.to.name)},`);
  // What the approver needs to decide, before the link (an outcome tells the requester only).
  const key = n.kind === 'outcome' ? undefined : keyEvidence(t, n.context);
  // An escalation goes to someone above the level, who does not decide it.
  const heading = n.kind === 'escalate' ? 'What the approvers decide on' : 'What you decide on';

  const text = [
    greeting.text,
    '',
    ...intro.map((x) => x.text),
    ...(key ? ['', ...keyText(key, heading)] : []),
    ...(link ? ['', `Review and decide: ${link.url}`, ...link.after.map((x) => x.text)] : []),
    '',
    '---- Evidence ----',
    evidenceText(t),
    '',
  ].join('\n');

  const html = [
    '<!doctype html>',
    '<html lang="en">',
    `<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:16px;background:#ffffff;color:#1d2430;font:14px/1.45 Arial,Helvetica,sans-serif;word-wrap:break-word;overflow-wrap:break-word">',
    `<p style="${P}">${greeting.html}</p>`,
    ...intro.map((x) => `<p style="${P}">${x.html}</p>`),
    ...(key ? [keyHtml(key, heading)] : []),
    ...(link
      ? [
          `<p style="margin:16px 0"><a href="${escapeHtml(link.url)}" style="${BUTTON}">Review and decide</a></p>`,
          ...link.after.map((x) => `<p style="${MUTED}">${x.html}</p>`),
        ]
      : []),
    renderEvidenceHtml(t, true),
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return { subject, text, html };
}

// ---- .eml: written and read in core, re-exported for the importers of this module ----

export {
  decodeQuotedPrintable,
  type EmlInput,
  encodeQuotedPrintable,
  parseEml,
  toEml,
} from '../core/eml.ts';

// ---- Slack ----

const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
/** A Slack member id (configuration, but checked before it becomes a mention). */
const SLACK_ID = /^[UW][A-Z0-9]{2,}$/;

const mrkdwn = (text: string, max: number) => ({ type: 'mrkdwn' as const, text: truncate(text, max) });
const plain = (text: string, max: number) => ({ type: 'plain_text' as const, text: truncate(text, max) });
/** Data as mrkdwn: on one line, `&`, `<` and `>` escaped (no link, no mention, no broadcast). */
const md = (v: string | number) => escapeMrkdwn(one(v));

/**
 * The Slack message asking an approver to decide: the request and who it is for, the gate's flags
 * and key figures, the expiry, then Approve and Reject buttons (the value is the signed link token,
 * which the signed interaction carries back) and a link button to the evidence page.
 */
/** The rows of a credit application's or an order release's evidence its Slack message shows. */
const SLACK_REQUEST_ROWS = new Set([
  'Application',
  'Limit asked',
  'Scorecard',
  'Initial limit',
  'Missing',
  'For the approvers',
  'Held order',
  'Held for',
  'Exposure with it',
  'Rating',
  'Ships until',
]);

export function approvalSlackMessage(n: ApprovalNotice & { kind: 'approve' | 'remind' }): {
  text: string;
  blocks: unknown[];
} {
  const t = n.transfer;
  const r = t.request;
  const g = t.gate;
  const url = checkedUrl(n.url);
  const head = t.limitBatch
    ? `${t.limitBatch.count} credit limit changes`
    : t.policyChange
      ? 'Credit policy change'
      : t.limitChange
        ? `Credit limit ${humanize(r.type)}`
        : moves(t)
          ? `${amountOf(t)} ${humanize(r.type)}`
          : 'Bank account change';
  const who = n.to.slackId && SLACK_ID.test(n.to.slackId) ? `<@${n.to.slackId}>` : `*${md(n.to.name)}*`;
  const key = keyEvidence(t, n.context);
  const customer = key.customer?.name
    ? `*${md(key.customer.name)}* (${md(r.customerId)})`
    : `*${md(r.customerId)}*`;

  const lines = [
    `${n.kind === 'remind' ? `:bell: *Reminder ${n.reminder}:* ` : ''}${who}, your approval is requested${n.onBehalfOf ? ` on behalf of *${md(n.onBehalfOf)}*` : ''}: ${levelOf(n.level)}, ${md(n.level.name)} (${plural(n.level.required, 'approval')} needed).`,
    limitWhat(t) !== undefined
      ? `*${md(limitWhat(t) ?? '')}* (no money moves)`
      : moves(t)
        ? `*${md(humanize(r.type))}* of *${md(amountOf(t))}* to *${md(r.beneficiaryName)}* (\`${md(r.beneficiaryAccount)}\`) for customer ${customer}`
        : `*Bank account change* to *${md(r.beneficiaryName)}* (\`${md(r.beneficiaryAccount)}\`) for customer ${customer}`,
    `*Reason:* ${md(r.reason)}`,
    `Requested by ${md(r.requester)} at ${md(when(t.requestedAt))} · ${md(t.transferId)}`,
  ];

  // At most 10 fields (Block Kit's limit): the figures an approver decides on.
  const fields: { type: 'mrkdwn'; text: string }[] = [];
  const field = (k: string, v: string) => fields.push(mrkdwn(`*${k}*\n${v}`, FIELD_MAX));
  if (key.customer)
    field(
      'Customer',
      key.customer.name ? `${md(key.customer.name)} (${md(key.customer.id)})` : md(key.customer.id),
    );
  const f = key.figures;
  if (f) {
    field('Exposure', md(f.exposure));
    field('Credit limit', md(f.creditLimit));
    field('Headroom', md(f.headroom));
    field('Headroom after this transfer', md(f.headroomAfter));
    field('Unapplied cash', `${md(f.unappliedCash)}${f.cashNeeded ? `\n${md(f.cashNeeded)}` : ''}`);
  }
  const x = g?.exposure;
  if (x)
    field(
      'Overdue',
      `${md(formatDecimalMoney(x.overdueAmount, x.currency))}, oldest ${md(x.maxDaysPastDue)} days`,
    );
  if (!g) field('Gate flags', 'the risk gate has not run');
  else {
    field(
      'Gate flags',
      g.flags.length > 0 ? g.flags.map((fl) => `:warning: ${md(humanize(fl))}`).join('\n') : 'none',
    );
    field(
      'Rating',
      g.rating === undefined
        ? 'not rated'
        : `${md(g.rating)}${g.score === undefined ? '' : `, score ${md(g.score)}`}${g.riskClass ? `, ${md(g.riskClass)} risk` : ''}`,
    );
  }
  if (key.alerts) field('Open alerts', md(alertCounts(key.alerts)));

  const blocks: unknown[] = [
    {
      type: 'header',
      text: { ...plain(`${head} · ${one(r.customerId)} · ${levelOf(n.level)}`, HEADER_MAX), emoji: true },
    },
    { type: 'section', text: mrkdwn(lines.join('\n'), SECTION_MAX) },
  ];
  if (fields.length > 0) blocks.push({ type: 'section', fields: fields.slice(0, 10) });
  // A credit application or an order release: what the approver decides on, as the email shows it.
  const asked = evidenceOf(t).request.filter(([k]) => SLACK_REQUEST_ROWS.has(k));
  if (asked.length > 0)
    blocks.push({
      type: 'section',
      text: mrkdwn(asked.map(([k, v]) => `*${md(k)}:* ${md(v)}`).join('\n'), SECTION_MAX),
    });
  const a = key.alerts;
  if (a && a.top.length > 0)
    blocks.push({
      type: 'section',
      text: mrkdwn(
        [
          `*Open alerts, most severe first:*`,
          ...a.top.map((al) => `• *${md(al.severity)}* ${md(al.rule)}: ${md(al.summary)}`),
          ...(a.more > 0 ? [`…and ${a.more} more: *Review evidence* shows every one.`] : []),
        ].join('\n'),
        SECTION_MAX,
      ),
    });
  if (key.decisions)
    blocks.push({
      type: 'section',
      text: mrkdwn(
        key.decisions.length === 0
          ? '*Decisions so far:* none yet'
          : [
              '*Decisions so far:*',
              ...key.decisions.map(
                (d) => `• ${md(decisionWords(d, when))}: ${d.comment ? `“${md(d.comment)}”` : 'no comment'}`,
              ),
            ].join('\n'),
        SECTION_MAX,
      ),
    });
  if (g?.batch) blocks.push({ type: 'section', text: mrkdwn(batchSlack(g.batch), SECTION_MAX) });
  const flagged = g?.checks.filter((c) => c.flag !== undefined) ?? [];
  if (flagged.length > 0)
    blocks.push({
      type: 'section',
      text: mrkdwn(
        flagged.map((c) => `:warning: *${label(c.check)}:* ${md(c.summary)}`).join('\n'),
        SECTION_MAX,
      ),
    });
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(
        `Expires ${md(when(n.expiresAt))} · Approve and Reject decide at once; the evidence page shows every check.`,
        FIELD_MAX,
      ),
    ],
  });
  const rejectWhat =
    limitWhat(t) !== undefined
      ? `the ${limitWhat(t)}`
      : moves(t)
        ? `the ${humanize(r.type)} of ${amountOf(t)} to ${r.beneficiaryName}`
        : `the bank account change to ${r.beneficiaryName}`;
  blocks.push({
    type: 'actions',
    block_id: 'transfer.decision',
    elements: [
      {
        type: 'button',
        action_id: 'transfer.approve',
        style: 'primary',
        text: plain('Approve', 75),
        value: n.token,
      },
      {
        type: 'button',
        action_id: 'transfer.reject',
        style: 'danger',
        text: plain('Reject', 75),
        value: n.token,
        confirm: {
          title: plain('Reject this transfer?', 100),
          text: mrkdwn(`Reject ${md(rejectWhat)}? This ends the request for every approver.`, 300),
          confirm: plain('Reject', 30),
          deny: plain('Cancel', 30),
          style: 'danger',
        },
      },
      {
        type: 'button',
        action_id: 'transfer.evidence',
        text: plain('Review evidence', 75),
        url,
      },
    ],
  });
  return {
    text: truncate(
      `${n.kind === 'remind' ? `Reminder ${n.reminder}: approval` : 'Approval'} requested: ${md(what(t))}, ${levelOf(n.level)}`,
      SECTION_MAX,
    ),
    blocks,
  };
}

/** Rows of a batch a Slack message lists before pointing to the evidence page. */
const SLACK_BATCH_ROWS = 10;

/** A batch in a Slack section: its first rows, and how many more are on the evidence page. */
function batchSlack(b: BatchTable): string {
  const rows = b.rows.slice(0, SLACK_BATCH_ROWS);
  const more = b.count - rows.length;
  return [
    `*${b.count} limit changes asked for:*`,
    ...rows.map(
      (r) =>
        `• *${md(r.customer)}* (${md(r.rating)}): ${md(r.change)} ${md(r.from)} → ${md(r.to)}, exposure ${md(r.exposure)}`,
    ),
    ...(more > 0 ? [`…and ${more} more: *Review evidence* shows every one.`] : []),
  ].join('\n');
}

/** The answer posted to an interaction's `response_url`: it replaces the message and its buttons. */
export function slackDecisionUpdate(text: string): { replace_original: true; text: string } {
  return { replace_original: true, text: truncate(text, SECTION_MAX) };
}
