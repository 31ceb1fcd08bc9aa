import type { IncomingMessage } from 'node:http';
import {
  APPLICATION_FIELDS,
  type ApplicationIssue,
  type CreditApplication,
  pendingWords,
} from '../../../functions/applications/application.ts';
import {
  type ApplicationsApi,
  applicationsJson,
  type JsonAnswer,
} from '../../../functions/applications/http.ts';
import { type Html, html, kv } from './layout.ts';
import {
  FORM_TYPE,
  htmlReply,
  instant,
  jsonReply,
  minorCell,
  money,
  problem,
  type Reply,
  readBody,
} from './shared.ts';

/**
 * Credit applications on the console (README "Credit applications"): the list with the form that
 * files one (`POST /applications/new`), an application's page, and the JSON API the CLI uses
 * (`GET /api/applications`, `GET /api/applications/ID`, `POST /api/applications`). Filing goes
 * through the same code as `sentinel application file`; the JSON is functions/applications/http.ts,
 * which the transfers API on AWS serves too.
 */
export type ConsoleApplications = ApplicationsApi;

export const APPLICATIONS_FORM_PATH = '/applications/new';
export const APPLICATIONS_API_PATH = '/api/applications';
export const applicationHref = (id: string) => `/applications/${encodeURIComponent(id)}`;

const LABELS: Record<string, string> = {
  customerId: 'Customer id',
  name: 'Company name',
  country: 'Country (ISO 3166, two letters)',
  currency: 'Currency (ISO 4217)',
  registrationNo: 'Registration number',
  industry: 'Industry',
  paymentTermsDays: 'Payment terms (days)',
  requestedLimit: 'Requested limit',
  filedBy: 'Filed by',
};
/** The statement's figures the form asks (the `financials` upload's columns). */
const FIGURES: [string, string][] = [
  ['periodEnd', 'Period end (YYYY-MM-DD)'],
  ['revenue', 'Revenue'],
  ['currentAssets', 'Current assets'],
  ['currentLiabilities', 'Current liabilities'],
  ['inventory', 'Inventory'],
  ['totalAssets', 'Total assets'],
  ['totalLiabilities', 'Total liabilities'],
  ['retainedEarnings', 'Retained earnings'],
  ['ebit', 'EBIT'],
  ['equity', 'Equity'],
];
const SCORE: [string, string][] = [
  ['agency', 'Agency'],
  ['date', 'Score date (YYYY-MM-DD)'],
  ['score', 'Score'],
  ['scaleMax', 'Best score on the scale'],
];

const STATE_CLASS: Record<string, string> = {
  pending: 'badge',
  approved: 'badge ok',
  rejected: 'badge bad',
  withdrawn: 'badge muted',
};

/**
 * The form's fields as the application's JSON: empty fields left out, a statement and a score only
 * when one of their fields is given, references and disputes one per line, `|` between the parts.
 */
export function formApplication(f: URLSearchParams): Record<string, unknown> {
  const v = (k: string) => (f.get(k) ?? '').trim();
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(LABELS)) if (v(k) !== '') out[k] = v(k);
  if (out.paymentTermsDays !== undefined) {
    const n = Number(out.paymentTermsDays);
    out.paymentTermsDays = Number.isFinite(n) ? n : out.paymentTermsDays;
  }
  const st: Record<string, string> = {};
  for (const [k] of FIGURES) if (v(`fin.${k}`) !== '') st[k] = v(`fin.${k}`);
  if (Object.keys(st).length > 0) out.financials = [st];
  const sc: Record<string, unknown> = {};
  for (const [k] of SCORE) if (v(`score.${k}`) !== '') sc[k] = v(`score.${k}`);
  for (const k of ['score', 'scaleMax'])
    if (typeof sc[k] === 'string' && /^\d+(\.\d+)?$/.test(sc[k] as string)) sc[k] = Number(sc[k]);
  if (Object.keys(sc).length > 0) out.score = sc;
  const lines = (k: string) =>
    v(k)
      .split(/\r?\n/)
      .map((l) => l.split('|').map((p) => p.trim()))
      .filter((p) => p.some((x) => x !== ''));
  out.tradeReferences = lines('tradeReferences').map(([name, years, creditLimit, onTime, contact]) => ({
    name: name ?? '',
    ...(years ? { years: Number.isFinite(Number(years)) ? Number(years) : years } : {}),
    ...(creditLimit ? { creditLimit } : {}),
    ...(onTime
      ? {
          paysOnTime: /^(y|yes|true)$/i.test(onTime) ? true : /^(n|no|false)$/i.test(onTime) ? false : onTime,
        }
      : {}),
    ...(contact ? { contact } : {}),
  }));
  out.legalDisputes = lines('legalDisputes').map(([date, state, description, amount]) => ({
    date: date ?? '',
    state: state ?? '',
    description: description ?? '',
    ...(amount ? { amount } : {}),
  }));
  return out;
}

function formHtml(values: URLSearchParams, issues: readonly ApplicationIssue[]): Html {
  const errOf = (field: string) => issues.filter((i) => i.field === field || i.field.startsWith(`${field}.`));
  const input = (name: string, label: string, field = name) => {
    const errs = errOf(field);
    return html`<label for="${name}">${label}</label><div><input type="text" id="${name}" name="${name}" value="${values.get(name) ?? ''}" autocomplete="off"${errs.length > 0 ? html` aria-invalid="true"` : ''}></div>
<div>${errs.length > 0 ? html`<span class="err">${errs.map((i) => `${i.field} ${i.message}`).join('; ')}</span>` : ''}</div>
`;
  };
  const area = (name: string, label: string, hint: string) => {
    const errs = errOf(name);
    return html`<label for="${name}">${label}</label><div><textarea id="${name}" name="${name}" rows="3">${values.get(name) ?? ''}</textarea></div>
<div>${errs.length > 0 ? html`<span class="err">${errs.map((i) => `${i.field} ${i.message}`).join('; ')}</span>` : ''}<span class="hint">${hint}</span></div>
`;
  };
  const summary =
    issues.length === 0
      ? ''
      : html`<div class="problem" id="application-problems" role="alert"><strong>The application was not filed: nothing was stored.</strong> Correct ${issues.length === 1 ? 'this' : `these ${issues.length}`} and send it again:
<ul>${issues.map((i) => html`<li>${i.field} ${i.message}</li>`)}</ul></div>`;
  return html`<section id="file"><h2>File a credit application</h2>
${summary}
<form class="request" method="post" action="${APPLICATIONS_FORM_PATH}">
${APPLICATION_FIELDS.filter((f) => LABELS[f]).map((f) => input(f, LABELS[f] as string))}
<h3>Latest financial statement</h3><div></div><div></div>
${FIGURES.map(([k, l]) => input(`fin.${k}`, l, `financials.0.${k}`))}
<h3>Agency score</h3><div></div><div></div>
${SCORE.map(([k, l]) => input(`score.${k}`, l, `score.${k}`))}
${area('tradeReferences', 'Trade references', 'one a line: name | years | credit limit | pays on time (yes/no) | contact')}
${area('legalDisputes', 'Legal disputes on record', 'one a line: date | open or closed | description | amount')}
<div class="actions"><button type="submit">File the application</button></div>
</form></section>`;
}

function listHtml(list: readonly CreditApplication[]): Html {
  if (list.length === 0) return html`<p>No credit application has been filed.</p>`;
  return html`<p>${list.length} application${list.length === 1 ? '' : 's'} (each customer's latest), newest first.</p>
<div class="wrap"><table><thead><tr><th>Application</th><th>Customer</th><th>Filed</th><th>State</th><th class="num">Asked</th><th>Rating</th><th class="num">Initial limit</th><th>Approval</th></tr></thead><tbody>
${list.map(
  (a) =>
    html`<tr><td><a href="${applicationHref(a.applicationId)}">${a.applicationId}</a></td><td>${a.customerId} ${a.name}</td><td>${a.filedOn}</td><td><span class="${STATE_CLASS[a.state] ?? ''}">${a.state}</span></td>${minorCell(a.requestedLimit, a.currency)}<td>${a.rating.rating} (${a.rating.score})</td>${minorCell(a.rating.initialLimit, a.currency)}<td>${a.transferId ? html`<a href="/transfers/${encodeURIComponent(a.transferId)}">${a.transferId}</a>` : ''}</td></tr>`,
)}
</tbody></table></div>`;
}

export function applicationsPage(
  list: readonly CreditApplication[],
  form: { values: URLSearchParams; issues: readonly ApplicationIssue[] } = {
    values: new URLSearchParams(),
    issues: [],
  },
): Html {
  return html`<h1>Credit applications</h1>
<p>A customer not yet on file, or on file without a limit, applies for credit. The scorecard rates it with what it brings and says what is missing; its initial limit goes to the approval chain. While it is pending, a credit check holds its orders (APPLICATION_PENDING).</p>
${listHtml(list)}
${formHtml(form.values, form.issues)}`;
}

export function applicationPage(a: CreditApplication): Html {
  const r = a.rating;
  return html`<h1>Credit application ${a.applicationId}</h1>
${a.state === 'pending' ? html`<p><strong>${pendingWords(a)}</strong>: a credit check holds this customer's orders until it is decided.</p>` : ''}
${kv([
  ['Customer', html`<a href="/customers/${encodeURIComponent(a.customerId)}">${a.customerId}</a> ${a.name}`],
  ['Country', a.country],
  ['Registration number', a.registrationNo],
  ['Industry', a.industry],
  ['Payment terms', a.paymentTermsDays === undefined ? undefined : `${a.paymentTermsDays} days`],
  ['State', a.state],
  ['Asked', money(a.requestedLimit, a.currency)],
  ['Filed', `${instant(a.filedAt)} by ${a.filedBy}`],
  [
    'Approval',
    a.transferId
      ? html`<a href="/transfers/${encodeURIComponent(a.transferId)}">${a.transferId}</a>`
      : undefined,
  ],
  ['Outcome', a.outcome],
  ['Limit set', a.approvedLimit === undefined ? undefined : money(a.approvedLimit, a.currency)],
])}
<h2>Scorecard</h2>
<p>Score ${r.score} of 100: rating ${r.rating} (${r.riskClass} risk), as of ${r.asOf} under policy ${r.policyId}. Recommended initial limit <strong>${money(r.initialLimit, a.currency)}</strong>.</p>
<ul>${r.basis.map((b) => html`<li>${b}</li>`)}</ul>
<h3>What is missing</h3>
<ul>${r.missing.map((m) => html`<li>${m}</li>`)}</ul>
${r.flags.length > 0 ? html`<h3>For the approvers</h3><ul>${r.flags.map((m) => html`<li>${m}</li>`)}</ul>` : ''}
<div class="wrap"><table><thead><tr><th>Factor</th><th class="num">Points</th><th>Why</th></tr></thead><tbody>
${r.factors.map((f) => html`<tr><td>${f.factor}</td><td class="num">${f.points}/${f.maxPoints}</td><td>${f.reason}</td></tr>`)}
</tbody></table></div>
<h2>Financial statements</h2>
${
  a.financials.length === 0
    ? html`<p>None.</p>`
    : html`<div class="wrap"><table><thead><tr>${FIGURES.map(([, l]) => html`<th>${l}</th>`)}</tr></thead><tbody>${a.financials.map(
        (s) =>
          html`<tr><td>${s.periodEnd}</td>${FIGURES.slice(1).map(([k]) => {
            const v = (s as unknown as Record<string, number | undefined>)[k];
            return v === undefined ? html`<td class="muted">—</td>` : minorCell(v, s.currency);
          })}</tr>`,
      )}</tbody></table></div>`
}
<h2>Agency score</h2>
${a.score ? html`<p>${a.score.agency}: ${a.score.score} of ${a.score.scaleMax} on ${a.score.date}.</p>` : html`<p>None.</p>`}
<h2>Trade references</h2>
${
  a.tradeReferences.length === 0
    ? html`<p>None.</p>`
    : html`<ul>${a.tradeReferences.map(
        (t) =>
          html`<li>${t.name}${t.years !== undefined ? `, ${t.years} years` : ''}${t.creditLimit !== undefined ? html`, credit ${money(t.creditLimit, a.currency)}` : ''}${t.paysOnTime === undefined ? '' : t.paysOnTime ? ', pays on time' : ', pays late'}${t.contact ? `, ${t.contact}` : ''}</li>`,
      )}</ul>`
}
<h2>Legal disputes on record</h2>
${
  a.legalDisputes.length === 0
    ? html`<p>None.</p>`
    : html`<ul>${a.legalDisputes.map(
        (d) =>
          html`<li>${d.date} (${d.state}): ${d.description}${d.amount !== undefined ? html`, ${money(d.amount, a.currency)}` : ''}</li>`,
      )}</ul>`
}
<p><a href="/applications">Back to the applications</a></p>`;
}

/** GET /applications[/ID] and /api/applications[/ID]. */
export async function applicationsReply(
  apps: ConsoleApplications,
  id: string | undefined,
  api: boolean,
): Promise<Reply> {
  if (api) {
    const r = (await applicationsJson(apps, 'GET', id, '')) as JsonAnswer;
    return jsonReply(r.status, r.value);
  }
  if (id === undefined)
    return htmlReply(200, 'Credit applications', applicationsPage(await apps.list()), 'applications');
  const a = await apps.show(id);
  if (!a) return problem(404, `There is no credit application "${id}".`, api);
  return htmlReply(200, `Application ${a.applicationId}`, applicationPage(a), 'applications');
}

/**
 * POST /applications/new (the form: 303 to the application, or the page again with every problem)
 * and POST /api/applications (JSON: 201 with the application, 400 or 409 with the issues).
 */
export async function fileApplicationReply(
  apps: ConsoleApplications,
  req: IncomingMessage,
  api: boolean,
): Promise<Reply> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const body = await readBody(req);
  if (api) {
    const r = (await applicationsJson(apps, 'POST', undefined, body)) as JsonAnswer;
    return jsonReply(r.status, r.value);
  }
  if (type !== FORM_TYPE)
    return problem(
      415,
      `Send the form as ${FORM_TYPE}, as the Applications page does. Nothing was stored.`,
      false,
    );
  const values = new URLSearchParams(body);
  const r = await apps.file(formApplication(values));
  if (!r.ok)
    return htmlReply(
      r.status,
      'Credit applications',
      applicationsPage(await apps.list(), { values, issues: r.issues }),
      'applications',
    );
  const location = applicationHref(r.application.applicationId);
  return { status: 303, type: 'text', body: `Filed: ${location}\n`, headers: { location } };
}
