import {
  collectionsWorklist,
  hasOverdue,
  type WorklistEntry,
} from '../../../functions/collections/worklist.ts';
import { moneyAsDecimals } from '../../../functions/core/money-json.ts';
import { type Html, html } from './layout.ts';
import type { ConsoleCredit } from './options.ts';
import { asOfParam, customerHref, htmlReply, jsonReply, minorCell, type Reply } from './shared.ts';

/**
 * `/collections` (and `/api/collections`): the collection plan as of a day, customer by customer
 * (README "Collections"), as `sentinel collections` prints it. Reads only.
 */
export async function collectionsReply(
  credit: ConsoleCredit,
  params: URLSearchParams,
  api: boolean,
  today: () => string,
): Promise<Reply> {
  const asOf = asOfParam(params, today);
  const all = params.get('all') === '1';
  const policy = await credit.policy();
  const list = policy.collections ? await collectionsWorklist(credit.store, policy, asOf) : [];
  if (api) return jsonReply(200, moneyAsDecimals({ asOf, policyId: policy.id, customers: list }));
  return htmlReply(
    200,
    'Collections',
    collectionsPage(list, { asOf, policyId: policy.id, all, planned: !!policy.collections }),
    'collections',
  );
}

export function collectionsPage(
  list: readonly WorklistEntry[],
  v: { asOf: string; policyId: string; all: boolean; planned: boolean },
): Html {
  const acted = list.filter((e) => e.send).length;
  const overdue = list.filter(hasOverdue).length;
  const shown = v.all ? list : list.filter(hasOverdue);
  const rows = shown.map(
    (
      e,
    ) => html`<tr><td><a href="${customerHref(e.customerId, v.asOf)}">${e.customerId}</a><br><span class="muted">${e.name ?? ''}</span></td>
<td>${e.reached?.name ?? html`<span class="muted">—</span>`}</td>
<td>${e.send ? html`<strong>${e.send.name}</strong> <span class="muted">(${e.send.channel})</span>` : html`<span class="muted">—</span>`}</td>
${minorCell(e.totals.demand, e.currency, e.send !== undefined)}
<td class="num">${e.oldestDaysPastDue}</td>
<td>${e.next ? html`${e.next.level} on ${e.next.on}` : html`<span class="muted">—</span>`}</td>
<td class="wide">${e.why}</td></tr>`,
  );
  return html`<h1>Collections</h1>
<p>The collection plan of policy <code>${v.policyId}</code> as of ${v.asOf}: for each customer, the level its oldest undisputed overdue item has reached, what is done today (a reminder, a call, the hold, the hand-over) or why not, and the next step if nothing is paid. Disputed items are never demanded; unapplied cash is taken off. "Today" is what the day's collections run does (after the daily evaluation, or <code>sentinel collections run</code>); a level that went out is not sent again.</p>
<form method="get" action="/collections" class="inline">
<label for="asOf">As of</label> <input id="asOf" name="asOf" type="date" value="${v.asOf}" required>
${v.all ? html`<input type="hidden" name="all" value="1">` : ''}
<button type="submit">Show</button>
</form>
${
  !v.planned
    ? html`<p class="problem">The policy in force has no collections section: nobody is chased.</p>`
    : html`<p><strong>${acted}</strong> to act on today, <strong>${overdue - acted}</strong> overdue and not acted on (each with its reason), <strong>${list.length - overdue}</strong> with nothing overdue${
        v.all
          ? html` (listed; <a href="/collections?asOf=${v.asOf}">only the overdue</a>)`
          : html` (<a href="/collections?asOf=${v.asOf}&amp;all=1">list them too</a>)`
      }.</p>
${
  shown.length === 0
    ? html`<p class="muted">Nobody to show.</p>`
    : html`<div class="wrap"><table><thead><tr><th>Customer</th><th>Level reached</th><th>Today</th><th class="num">Demand</th><th class="num">Days past due</th><th>Next</th><th>Why</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}`
}`;
}
