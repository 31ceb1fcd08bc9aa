import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoCheckLog } from '../../../functions/adapters/dynamodb-check-log.ts';
import { DynamoCheckStore } from '../../../functions/adapters/dynamodb-checks.ts';
import type { CheckResult } from '../../../functions/checks/app.ts';
import { CheckRefusedError, checkCredit, parseCheckRequest } from '../../../functions/checks/app.ts';
import { backtestChecks, type CheckBacktest, type Judged } from '../../../functions/checks/backtest.ts';
import { type HeldOrder, heldLine } from '../../../functions/checks/held.ts';
import { cancelAndRecheck, type RecheckReport, recheckHeld } from '../../../functions/checks/holds.ts';
import { chainCheckLog } from '../../../functions/checks/log.ts';
import type { CheckDeps } from '../../../functions/checks/ports.ts';
import { mapLimit } from '../../../functions/core/concurrency.ts';
import { rateWords } from '../../../functions/core/fx.ts';
import { formatDecimalMoney, formatMinor, formatMoney } from '../../../functions/core/money.ts';
import { grouped } from '../../../functions/core/paging.ts';
import { creditFileOf } from '../../../functions/credit/evaluate.ts';
import { localAuditTrail } from '../runtime/collections.ts';
import type { LocalEnv } from '../runtime/index.ts';
import { CliFailure, dateOption, jsonText, table, today, UsageError, withStore } from './common.ts';
import { loadPolicy, readPolicyFile } from './credit.ts';
import { consoleApi } from './transfers.ts';

/** The credit check on this machine: the local store, and its log (chained to the data dir's audit trail). */
export function localChecks(env: Pick<LocalEnv, 'store'>): CheckDeps {
  return {
    store: new DynamoCheckStore(env.store.client, env.store.tableName),
    log: new DynamoCheckLog(env.store.client, env.store.tableName),
  };
}

/**
 * Chains the checks' log to the data dir's audit trail now (what the console's chainer does every
 * two seconds): a one-shot command's decision is on the trail when it exits.
 */
export async function chainLocalChecks(env: Pick<LocalEnv, 'store' | 'dataDir'>): Promise<void> {
  await chainCheckLog(
    {
      log: new DynamoCheckLog(env.store.client, env.store.tableName),
      audit: localAuditTrail(env.store, env.dataDir),
    },
    { now: () => new Date() },
  );
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
  if (args[0] === 'backtest') return cmdChecksBacktest(args.slice(1));
  if (args[0] === 'recheck') return cmdRecheck(args.slice(1));
  if (args[0] === 'holds') return cmdHolds(args.slice(1));
  if (args[0] === 'release') return cmdRelease(args.slice(1));
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
    await chainLocalChecks(env);
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
    `  this order            ${m(e.thisOrder)}${d.order.rate ? ` (${rateWords(d.order.rate)})` : ''}`,
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
    let r: Awaited<ReturnType<typeof cancelAndRecheck>>;
    try {
      r = await cancelAndRecheck(
        localChecks(env),
        await loadPolicy(env.store),
        { customerId, orderId, by: values.by ?? process.env.USER ?? 'cli' },
        { today: today(), now: new Date().toISOString() },
      );
    } catch (e) {
      refused(e);
    }
    await chainLocalChecks(env);
    const { released, held, rechecked } = r;
    if (values.json)
      console.log(
        jsonText({
          customerId,
          orderId,
          released: released ?? null,
          held: held ?? null,
          rechecked: rechecked ?? null,
        }),
      );
    else {
      if (held?.state === 'cancelled' && held.closedOn === today())
        console.log(
          `cancelled: held order ${orderId} of ${customerId} (held since ${held.heldOn}) leaves the hold queue`,
        );
      if (!released) console.log(`${customerId} has no reservation for order ${orderId}: nothing to release`);
      else
        console.log(
          `released: order ${orderId} of ${customerId}, ${formatMoney(released.amount, released.currency)} reserved on ${released.reservedOn}; a new check of it is a new check against the headroom of its day`,
        );
      if (rechecked && rechecked.rechecked > 0) console.log(recheckText(rechecked));
    }
    return 0;
  });
}

/**
 * `sentinel credit-check backtest [--from D] [--to D] [--policy FILE] [--json]`: every invoice in
 * the store taken as an order on its issue date and checked against what was known that day
 * (README "Credit checks", "Backtest"). A customer without master data (the IBM sample carries
 * none) is taken as on file in its credit currency on the policy's default terms, as the
 * decision-quality bench derives the IBM master; a customer without a limit gets the one the
 * evaluation of the day before recommended. Writes nothing.
 */
async function cmdChecksBacktest(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      policy: { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length > 0)
    throw new UsageError(`credit-check backtest takes no customer: ${positionals.join(' ')}`);
  const from = values.from === undefined ? undefined : dateOption('from', values.from);
  const to = values.to === undefined ? undefined : dateOption('to', values.to);
  if (from !== undefined && to !== undefined && to < from)
    throw new UsageError(`--to ${to} is before --from ${from}`);
  const candidate = values.policy ? await readPolicyFile(values.policy) : undefined;
  return withStore(values['data-dir'], async (env) => {
    const policy = candidate ?? (await loadPolicy(env.store));
    const ids = await env.store.listCustomerIds();
    let derived = 0;
    const files = await mapLimit(ids, 8, async (id) => {
      const f = creditFileOf(id, await env.store.loadCustomerPartition(id));
      if (f.customer?.name) return f;
      derived++;
      return { ...f, customer: { ...f.customer, customerId: id, name: id, currency: f.currency } };
    });
    const r = backtestChecks(files, policy, { from, to });
    if (values.json) {
      const money = (m: Readonly<Record<string, number>>) =>
        Object.fromEntries(Object.entries(m).map(([c, n]) => [c, formatMinor(n, c)]));
      console.log(
        jsonText({
          ...r,
          withoutMaster: derived,
          ordered: money(r.ordered),
          orderedPaidLate: money(r.orderedPaidLate),
          approved: { ...r.approved, shippedOverdue: money(r.approved.shippedOverdue) },
        }),
      );
      return 0;
    }
    console.log(checksBacktestText(r, derived));
    return 0;
  });
}

/** The backtest as a credit controller reads it. */
export function checksBacktestText(r: CheckBacktest, withoutMaster: number): string {
  const sums = (m: Readonly<Record<string, number>>) =>
    Object.entries(m)
      .sort()
      .map(([c, n]) => formatMoney(n, c))
      .join(', ') || '-';
  const row = (name: string, j: Judged): string[] => [
    name,
    grouped(j.orders),
    grouped(j.paidLate),
    grouped(j.unpaid),
    grouped(j.paidOnTime),
    grouped(j.notDue),
  ];
  return [
    `credit-check backtest of policy ${r.policyId}, orders of ${r.from} to ${r.to}: ${grouped(r.orders)} orders of ${grouped(r.customers)} customers (${sums(r.ordered)}; ${sums(r.orderedPaidLate)} of it then paid late or never)`,
    ...(withoutMaster > 0
      ? [
          `${grouped(withoutMaster)} customers have no master data: each taken as on file in its credit currency on the policy's default terms; without a limit on file, the limit is the one the evaluation of the day before recommended`,
        ]
      : []),
    '',
    `approve ${grouped(r.outcomes.approve)}, approve-prepay ${grouped(r.outcomes['approve-prepay'])} (${grouped(r.prepay.customers)} customers), hold ${grouped(r.outcomes.hold)}, block ${grouped(r.outcomes.block)}; ${grouped(r.held.customers)} customers held at least once, ${grouped(r.held.customersPaidLate)} of them paid a held invoice late`,
    '',
    table(
      ['orders', 'count', 'paid late', 'never paid', 'paid on time', 'not due yet'],
      [
        row('held or blocked', r.held),
        ...Object.entries(r.heldBy)
          .sort(([, a], [, b]) => b.orders - a.orders)
          .map(([code, j]) => row(`  by ${code}`, j)),
        row('sent to prepay', r.prepay),
        row('approved on credit', r.approved),
      ],
      new Set([1, 2, 3, 4, 5]),
    ),
    '',
    `shipped on credit and then paid late or never: ${sums(r.approved.shippedOverdue)} (${grouped(r.approved.paidLate + r.approved.unpaid)} orders)`,
  ].join('\n');
}

/**
 * `sentinel credit-check recheck [CUSTOMER...] [--json]`: every order in the hold queue (or the
 * given customers' held orders) checked again as of today (README "Held orders"); the console
 * does it after each evaluation run.
 */
/** The order release's fields as the command line names them. */
const RELEASE_FLAGS: Record<string, string> = {
  customerId: 'CUSTOMER',
  orderId: '--order',
  reason: '--reason',
  until: '--until',
  requester: '--by',
};

/**
 * `sentinel credit-check release CUSTOMER --order ID --reason TEXT --until YYYY-MM-DD --by PERSON
 * [--json]`: asks the approval chain to ship a held order until a day (README "Held orders", Order
 * release), through the running product's `POST /api/credit-checks/release` (its workflow engine
 * runs the chain). Exit 1 when it is not running or the release is refused, each bad field named.
 */
async function cmdRelease(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      order: { type: 'string' },
      reason: { type: 'string' },
      until: { type: 'string' },
      by: { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length !== 1)
    throw new UsageError(
      'credit-check release takes one customer id: sentinel credit-check release C1001 --order SO-1 --reason TEXT --until YYYY-MM-DD --by rita',
    );
  const missing = (
    [
      ['--order', values.order],
      ['--reason', values.reason],
      ['--until', values.until],
      ['--by', values.by],
    ] as const
  )
    .filter(([, v]) => v === undefined || v.trim() === '')
    .map(([flag]) => `${flag} is required`);
  if (missing.length > 0) throw new CliFailure(`release not asked, nothing stored: ${missing.join('; ')}`);
  const customerId = positionals[0] as string;
  const r = await consoleApi(
    resolve(values['data-dir'] ?? '.sentinel'),
    'POST',
    '/api/credit-checks/release',
    {
      customerId,
      orderId: values.order,
      reason: values.reason,
      until: values.until,
      requester: values.by,
    },
  );
  if (r.status !== 202) {
    if (values.json) console.log(jsonText(r.json));
    const issues = (r.json.issues ?? []) as { field: string; message: string }[];
    // A bad field is named by its flag; an order not held (404) or not releasable now (409) says why.
    throw new CliFailure(
      issues.length === 0
        ? `release not asked: ${String(r.json.error ?? r.json.message ?? `the console answered ${r.status}`)}`
        : r.status === 400
          ? `release not asked, nothing stored: ${issues.map((i) => `${RELEASE_FLAGS[i.field] ?? i.field} ${i.message}`).join('; ')}`
          : `release not asked: ${issues.map((i) => i.message).join('; ')}`,
    );
  }
  const { transferId, held } = r.json as {
    transferId: string;
    held: {
      orderId: string;
      order: { amount: string; currency: string };
      heldOn: string;
      reasons: { code: string }[];
      releases?: { transferId: string; until: string; requestedBy: string }[];
    };
  };
  if (values.json) {
    console.log(jsonText(r.json));
    return 0;
  }
  const asked = held.releases?.find((x) => x.transferId === transferId);
  console.log(
    [
      `order release ${transferId} asked: ${held.orderId} of ${customerId}, ${formatDecimalMoney(held.order.amount, held.order.currency)} held since ${held.heldOn} (${held.reasons.map((x) => x.code).join(', ')}), to ship until ${asked?.until ?? values.until}, asked by ${asked?.requestedBy ?? values.by}`,
      `  the approval chain decides it: \`sentinel transfer show ${transferId}\``,
    ].join('\n'),
  );
  return 0;
}

async function cmdRecheck(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, 'data-dir': { type: 'string' } },
  });
  return withStore(values['data-dir'], async (env) => {
    const r = await recheckHeld(localChecks(env), await loadPolicy(env.store), {
      today: today(),
      now: new Date().toISOString(),
      customers: positionals.length > 0 ? positionals : undefined,
    });
    await chainLocalChecks(env);
    console.log(values.json ? jsonText(r) : recheckText(r));
    return r.failed.length > 0 ? 1 : 0;
  });
}

/** What a re-check did, as a credit controller reads it. */
export function recheckText(r: RecheckReport): string {
  return [
    `re-checked ${r.rechecked} held order${r.rechecked === 1 ? '' : 's'}: ${r.released.length} released, ${r.held.length} still held, ${r.expired.length} expired${r.failed.length ? `, ${r.failed.length} failed` : ''}`,
    ...r.released.map(
      (x) =>
        `  released  ${x.customerId} ${x.orderId}: ${x.cleared.length ? `${x.cleared.join(', ')} cleared` : 'approved'}`,
    ),
    ...r.held.map((x) => `  held      ${x.customerId} ${x.orderId}: ${x.reasons.join(', ')}`),
    ...r.expired.map((x) => `  expired   ${x.customerId} ${x.orderId}: held since ${x.heldOn}`),
    ...r.failed.map((x) => `  failed    ${x.customerId} ${x.orderId}: ${x.error}`),
  ].join('\n');
}

/** `sentinel credit-check holds [--json]`: the hold queue, oldest first. */
async function cmdHolds(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, 'data-dir': { type: 'string' } },
  });
  if (positionals.length > 0)
    throw new UsageError(`credit-check holds takes no arguments: ${positionals.join(' ')}`);
  return withStore(values['data-dir'], async (env) => {
    const queue: HeldOrder[] = (await localChecks(env).store.heldOrders?.()) ?? [];
    if (values.json) console.log(jsonText(queue));
    else if (queue.length === 0) console.log('the hold queue is empty');
    else
      console.log(
        [
          `${queue.length} held order${queue.length === 1 ? '' : 's'}, oldest first:`,
          ...queue.map((h) => `  ${heldLine(h)}`),
        ].join('\n'),
      );
    return 0;
  });
}
