import { formatMinor, formatMoney } from '../../../functions/core/money.ts';
import type { Approval, Transfer } from '../../../functions/transfers/ports.ts';
import { type Html, html } from './layout.ts';
import type { ConsoleOptions, ConsoleTransfers } from './options.ts';
import { customerHref, instant } from './shared.ts';
import { transferHref, typeLabel } from './transfers.ts';

/**
 * The Approvals page (`/approvals`, JSON at `/api/approvals`): every approval waiting for a
 * decision, oldest first (as the store's pending index keeps them), with its transfer, customer,
 * amount, level, approver, how long it has waited and the reminders sent, and the approval link
 * for that approver: the same signed link its email carries (`TransferApp.approvalUrl`). The link
 * is the approver's credential; the console is for the finance team on this machine, as the outbox is.
 */

export interface WaitingApproval {
  readonly approval: Approval;
  /** Undefined only if the transfer vanished meanwhile. */
  readonly transfer: Transfer | undefined;
  readonly customerName: string | undefined;
  readonly url: string;
}

/** Every waiting approval, oldest first, with what the page shows of its transfer and customer. */
export async function waitingApprovals(
  opts: ConsoleOptions,
  t: ConsoleTransfers,
): Promise<WaitingApproval[]> {
  const pending = [...(await t.pendingApprovals())].sort(
    (x, y) =>
      (x.notifiedAt < y.notifiedAt ? -1 : x.notifiedAt > y.notifiedAt ? 1 : 0) ||
      (x.transferId < y.transferId ? -1 : x.transferId > y.transferId ? 1 : 0) ||
      x.level - y.level ||
      (x.approver < y.approver ? -1 : x.approver > y.approver ? 1 : 0),
  );
  // The pending transfers in one listing (a read per transfer took 0.5 s at 120 waiting); one
  // that left `pending` between the two reads is read by itself.
  const transfers = new Map<string, Transfer | undefined>(
    (await t.list({ status: 'pending' })).map((x) => [x.transferId, x]),
  );
  const missing = [...new Set(pending.map((a) => a.transferId))].filter((id) => !transfers.has(id));
  for (const [id, x] of await Promise.all(
    missing.map(async (id) => [id, (await t.show(id))?.transfer] as const),
  ))
    transfers.set(id, x);
  const customerIds = [...new Set([...transfers.values()].flatMap((x) => (x ? [x.request.customerId] : [])))];
  const customers = opts.credit ? await opts.credit.store.getCustomers(customerIds) : new Map();
  return Promise.all(
    pending.map(async (approval) => {
      const transfer = transfers.get(approval.transferId);
      return {
        approval,
        transfer,
        customerName: transfer ? customers.get(transfer.request.customerId)?.name : undefined,
        url: await t.approvalUrl(approval),
      };
    }),
  );
}

/** A person of the chain by name and id ("Ana Ortiz (ana)"), or the id alone. */
function personOf(t: Transfer | undefined, id: string): { name: string | undefined; id: string } {
  for (const l of t?.levels ?? [])
    for (const a of l.approvers) if (a.id === id && a.name !== id) return { name: a.name, id };
  return { name: undefined, id };
}

const levelOf = (w: WaitingApproval) => w.transfer?.levels?.find((l) => l.level === w.approval.level);

/** The JSON answer: the store's approval records, each with its transfer's figures and link. */
export function approvalsJson(list: readonly WaitingApproval[]): unknown {
  return {
    approvals: list.map((w) => {
      const r = w.transfer?.request;
      return {
        ...w.approval,
        ...(r
          ? {
              customerId: r.customerId,
              customerName: w.customerName,
              type: r.type,
              amount: formatMinor(r.amount, r.currency),
              currency: r.currency,
              requester: r.requester,
              levels: w.transfer?.levels?.length,
              levelName: levelOf(w)?.name,
            }
          : {}),
        approverName: personOf(w.transfer, w.approval.approver).name,
        link: w.url,
      };
    }),
  };
}

export function approvalsPage(list: readonly WaitingApproval[], now: Date): Html {
  const who = (t: Transfer | undefined, id: string) => {
    const p = personOf(t, id);
    return p.name ? html`${p.name} <span class="muted">(${id})</span>` : html`${id}`;
  };
  const rows = list.map((w) => {
    const a = w.approval;
    const r = w.transfer?.request;
    const level = levelOf(w);
    return html`<tr class="approval"><td>${instant(a.notifiedAt)}<br><span class="muted">${waited(a.notifiedAt, now)}</span></td>
<td><a href="${transferHref(a.transferId)}">${a.transferId}</a>${r ? html`<br><span class="muted">${typeLabel(r.type)}</span>` : ''}</td>
<td>${r ? html`<a href="${customerHref(r.customerId, w.transfer?.requestedOn ?? '')}">${r.customerId}</a>${w.customerName ? html`<br><span class="muted">${w.customerName}</span>` : ''}` : html`<span class="muted">—</span>`}</td>
<td class="num">${r ? formatMoney(r.amount, r.currency) : '—'}</td>
<td>${a.level}${w.transfer?.levels ? ` of ${w.transfer.levels.length}` : ''}${level ? html`<br><span class="muted">${level.name}</span>` : ''}</td>
<td>${who(w.transfer, a.approver)}${a.onBehalfOf ? html`<br><span class="muted">for ${who(w.transfer, a.onBehalfOf)}</span>` : ''}</td>
<td><a class="approval-link" href="${w.url}">Open as ${personOf(w.transfer, a.approver).name ?? a.approver}</a></td>
<td class="num">${a.reminders}</td><td>${instant(a.expiresAt)}</td></tr>`;
  });
  return html`<h1>Approvals waiting</h1>
<p class="muted">Every approval waiting for a decision, oldest first. Each link is the one the approver's email carries: it is theirs
(only they can decide with it), so forward it to them rather than using it yourself. The CLI lists the same: <code>sentinel approvals</code>.</p>
${
  list.length === 0
    ? html`<p class="note">No approval is waiting.</p>`
    : html`<p class="shown">${list.length} approval${list.length === 1 ? '' : 's'} waiting, oldest first.</p>
<div class="wrap"><table id="approvals">
<thead><tr><th>Waiting since</th><th>Transfer</th><th>Customer</th><th class="num">Amount</th><th>Level</th><th>Approver</th><th>Approval link</th><th class="num">Reminders sent</th><th>Link expires</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
}`;
}

/** "3 days 4 hours" / "5 hours 2 minutes" / "12 minutes": how long since `iso`. */
export function waited(iso: string, now: Date): string {
  const mins = Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 60_000));
  const unit = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  const days = Math.floor(mins / 1440);
  const hours = Math.floor((mins % 1440) / 60);
  if (days > 0) return `${unit(days, 'day')}${hours > 0 ? ` ${unit(hours, 'hour')}` : ''}`;
  if (hours > 0) return `${unit(hours, 'hour')}${mins % 60 > 0 ? ` ${unit(mins % 60, 'minute')}` : ''}`;
  return unit(mins, 'minute');
}
