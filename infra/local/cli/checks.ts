import { parseArgs } from 'node:util';
import { DynamoCheckStore } from '../../../functions/adapters/dynamodb-checks.ts';
import type { CheckResult } from '../../../functions/checks/app.ts';
import {
  CheckRefusedError,
  cancelCheck,
  checkCredit,
  parseCheckRequest,
} from '../../../functions/checks/app.ts';
import type { CheckDeps } from '../../../functions/checks/ports.ts';
import { formatMoney } from '../../../functions/core/money.ts';
import { localAuditTrail } from '../runtime/collections.ts';
import type { LocalEnv } from '../runtime/index.ts';
import { CliFailure, jsonText, today, UsageError, withStore } from './common.ts';
import { loadPolicy } from './credit.ts';

/** The credit check on this machine: the local store and the data dir's audit trail. */
export function localChecks(env: Pick<LocalEnv, 'store' | 'dataDir'>): CheckDeps {
  return {
    store: new DynamoCheckStore(env.store.client, env.store.tableName),
    audit: localAuditTrail(env.store, env.dataDir),
  };
}

const FLAGS: Record<string, string> = {
  customerId: 'customer',
  orderId: '--order',
  amount: '--amount',
  currency: '--currency',
  requestedShipDate: '--ship',
  stage: '--stage',
  channel: '--channel',
};

function refused(e: unknown): never {
  if (e instanceof CheckRefusedError)
    throw new CliFailure(
      `check refused, nothing written: ${e.issues.map((i) => `${FLAGS[i.field] ?? i.field} ${i.message}`).join('; ')}`,
    );
  throw e;
}

/**
 * `sentinel credit-check CUSTOMER --order ID --amount A --currency C [--ship D] [--stage S]
 * [--channel C] [--json]`, and `sentinel credit-check cancel CUSTOMER --order ID [--by WHO]`.
 * Exit 0 whatever the outcome (the outcome is the answer); 1 when refused.
 */
export async function cmdCreditCheck(args: string[]): Promise<number> {
  if (args[0] === 'cancel') return cmdCancel(args.slice(1));
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      order: { type: 'string' },
      amount: { type: 'string' },
      currency: { type: 'string' },
      ship: { type: 'string' },
      stage: { type: 'string' },
      channel: { type: 'string' },
      by: { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length !== 1)
    throw new UsageError(
      'credit-check takes one customer id: sentinel credit-check C1001 --order SO-1 --amount 12,000.00 --currency EUR',
    );
  const day = today();
  const parsed = parseCheckRequest(
    {
      customerId: positionals[0],
      orderId: values.order,
      amount: values.amount,
      currency: values.currency,
      ...(values.ship !== undefined ? { requestedShipDate: values.ship } : {}),
      ...(values.stage !== undefined ? { stage: values.stage } : {}),
      ...(values.channel !== undefined ? { channel: values.channel } : {}),
    },
    day,
    'cli',
  );
  if (!parsed.ok) refused(new CheckRefusedError(parsed.issues));
  return withStore(values['data-dir'], async (env) => {
    const policy = await loadPolicy(env.store);
    let r: CheckResult;
    try {
      r = await checkCredit(localChecks(env), policy, parsed.order, {
        today: day,
        now: new Date().toISOString(),
        by: values.by,
      });
    } catch (e) {
      refused(e);
    }
    console.log(values.json ? jsonText(r) : checkText(r));
    return 0;
  });
}

/** What a person reads of a check: the outcome, the reasons, the exposure line by line. */
export function checkText(r: CheckResult): string {
  const d = r.decision;
  const m = (n: number) => formatMoney(n, d.currency);
  const e = d.exposure;
  const reserved =
    r.reservation === 'reserved'
      ? `reserved until ${r.reservedUntil}`
      : r.reservation === 'kept'
        ? `already reserved until ${r.reservedUntil} (counted once)`
        : 'nothing reserved';
  return [
    `${d.outcome.toUpperCase()}: order ${d.orderId} of ${d.customerId}, ${formatMoney(d.order.amount, d.order.currency)} (${d.order.stage}, ${d.order.channel}, ships ${d.order.requestedShipDate}), as of ${d.asOf}; ${reserved}`,
    ...d.reasons.map((x) => `  ${x.code}: ${x.text}`),
    '',
    `  open items            ${m(e.openItems)}`,
    `  less unapplied cash   ${m(e.unappliedCash)}`,
    `  approved transfers    ${m(e.approvedTransfers)}`,
    `  open orders           ${m(e.openOrders)}${d.ordersCounted.length ? ` (${d.ordersCounted.join(', ')})` : ''}`,
    `  this order            ${m(e.thisOrder)}${d.order.rate ? ` (${d.order.rate.pair} ${d.order.rate.rate} of ${d.order.rate.date})` : ''}`,
    `  exposure              ${m(e.total)}`,
    `  credit limit          ${d.limit === null ? 'none on file' : m(d.limit)}`,
    `  headroom after        ${d.headroomAfter === null ? '-' : m(d.headroomAfter)}`,
    `  rating                ${d.rating === null ? 'not rated' : `${d.rating} (${d.riskClass} risk, ${d.assessedOn})`}`,
  ].join('\n');
}

async function cmdCancel(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      order: { type: 'string' },
      by: { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length !== 1 || !values.order)
    throw new UsageError('credit-check cancel takes one customer id and --order ID');
  const customerId = positionals[0] as string;
  const orderId = values.order;
  return withStore(values['data-dir'], async (env) => {
    let released: Awaited<ReturnType<typeof cancelCheck>>;
    try {
      released = await cancelCheck(
        localChecks(env),
        { customerId, orderId, by: values.by ?? process.env.USER ?? 'cli' },
        { today: today(), now: new Date().toISOString() },
      );
    } catch (e) {
      refused(e);
    }
    if (values.json) console.log(jsonText({ customerId, orderId, released: released ?? null }));
    else if (!released)
      console.log(`${customerId} has no reservation for order ${orderId}: nothing to release`);
    else
      console.log(
        `released: order ${orderId} of ${customerId}, ${formatMoney(released.amount, released.currency)} reserved on ${released.reservedOn}; a new check of it is a new check against the headroom of its day`,
      );
    return 0;
  });
}
