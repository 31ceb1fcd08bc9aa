import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DynamoTransferStore } from '../../../functions/adapters/dynamodb-transfers.ts';
import {
  assignCollector,
  disputesOf,
  logCall,
  openDispute,
  promisesOf,
  RefusedError,
  recordPromise,
  releaseHold,
  resolveDispute,
  UnknownCustomerError,
  withdrawHandover,
} from '../../../functions/collections/app.ts';
import { backtestCollections } from '../../../functions/collections/backtest.ts';
import { disputedWords } from '../../../functions/collections/disputes.ts';
import type { CollectionsRunReport } from '../../../functions/collections/run.ts';
import { scoreTerms, scoreWords } from '../../../functions/collections/score.ts';
import {
  collectionsWorklist,
  hasOverdue,
  type WorklistEntry,
} from '../../../functions/collections/worklist.ts';
import { mapLimit } from '../../../functions/core/concurrency.ts';
import { formatMinor, formatMoney } from '../../../functions/core/money.ts';
import { grouped } from '../../../functions/core/paging.ts';
import { creditFileOf } from '../../../functions/credit/evaluate.ts';
import { localAudit } from '../runtime/audit-key.ts';
import { collectionsTasksDir, localCollectionsRun } from '../runtime/collections.ts';
import { mailDir } from '../runtime/transfers.ts';
import {
  asOfOption,
  CliFailure,
  jsonText,
  plural,
  replayOptions,
  table,
  today,
  UsageError,
  withStore,
} from './common.ts';
import { loadPolicy, readPolicyFile } from './credit.ts';
import { progressLine } from './progress.ts';
import { consoleUrl } from './transfers.ts';

/**
 * `sentinel collections [--as-of D] [--all] [--json]`: the collection plan as of a day, customer by
 * customer (README "Collections"); `sentinel collections backtest`: the plan replayed over history.
 * Both write nothing.
 */
export async function cmdCollections(args: string[]): Promise<number> {
  if (args[0] === 'backtest') return cmdCollectionsBacktest(args.slice(1));
  if (args[0] === 'run') return cmdCollectionsRun(args.slice(1));
  if (args[0] === 'promise') return cmdPromise(args.slice(1));
  if (args[0] === 'promises') return cmdPromises(args.slice(1));
  if (args[0] === 'dispute') return cmdDispute(args.slice(1));
  if (args[0] === 'resolve') return cmdResolve(args.slice(1));
  if (args[0] === 'disputes') return cmdDisputes(args.slice(1));
  if (args[0] === 'release') return cmdRelease(args.slice(1));
  if (args[0] === 'handover') return cmdHandover(args.slice(1));
  if (args[0] === 'assign') return cmdAssign(args.slice(1));
  if (args[0] === 'log') return cmdLog(args.slice(1));
  if (args[0] === 'withdraw') return cmdWithdraw(args.slice(1));
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'as-of': { type: 'string' },
      all: { type: 'boolean', default: false },
      collector: { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`collections has no subcommand "${positionals[0]}"`);
  const asOf = asOfOption(values['as-of']);
  return withStore(values['data-dir'], async (env) => {
    const policy = await loadPolicy(env.store);
    if (!policy.collections) {
      console.log(`the policy in force (${policy.id}) has no collections section: nobody is chased`);
      return 0;
    }
    const progress = progressLine('collections');
    let list: WorklistEntry[];
    try {
      list = await collectionsWorklist(env.store, policy, asOf, {
        onProgress: (n, total) => progress.update(`customers ${grouped(n)} of ${grouped(total)}`),
      });
    } finally {
      progress.done();
    }
    // One collector's list: the customers assigned to them.
    if (values.collector !== undefined) list = list.filter((e) => e.collector === values.collector);
    const byCollector = list.some((e) => e.collector !== undefined);
    if (values.json) {
      console.log(jsonText({ asOf, policyId: policy.id, customers: list }));
      return 0;
    }
    const overdue = list.filter(hasOverdue).length;
    const shown = values.all ? list : list.filter(hasOverdue);
    const acted = list.filter((e) => e.send).length;
    const quiet = list.length - overdue;
    console.log(
      `collections as of ${asOf} under policy ${policy.id}: ${grouped(list.length)} ${plural('customer')(list.length)}; ` +
        `${acted} to act on today, ${overdue - acted} overdue and not acted on (the reason is given), ` +
        `${quiet} with nothing overdue${values.all || quiet === 0 ? '' : ' (not listed; --all lists them)'}`,
    );
    console.log(
      '"today" is what `sentinel collections run` does (the daily run does it after the evaluation); a level sent before is not sent again.\n',
    );
    if (shown.length === 0) return 0;
    console.log(
      table(
        [
          'customer',
          'name',
          'score',
          'level',
          'today',
          'demand',
          'days',
          'next',
          ...(byCollector ? ['collector'] : []),
        ],
        shown.map((e) => [
          e.customerId,
          e.name ?? '',
          e.score.toFixed(1),
          e.reached?.name ?? '-',
          e.send ? `${e.send.name} (${e.channel ?? e.send.channel})` : '-',
          formatMoney(e.totals.demand, e.currency),
          String(e.oldestDaysPastDue),
          e.next ? `${e.next.level} on ${e.next.on}` : '-',
          ...(byCollector ? [e.collector ?? '-'] : []),
        ]),
        new Set([2, 5, 6]),
      ),
    );
    // The reasons under the table, one line each: a sentence in a column would make every row as
    // wide as the longest one.
    console.log(
      `\nwhy:\n${shown.map((e) => `  ${e.customerId}: ${e.hold ? `on credit hold since ${e.hold.since}; ` : ''}${e.why}`).join('\n')}`,
    );
    // And why each comes where it does: the score's points, factor by factor.
    console.log(
      `\nscore (${scoreTerms(policy.collections.score)}):\n${shown.map((e) => `  ${e.customerId}: ${scoreWords(e)}`).join('\n')}`,
    );
    return 0;
  });
}

/**
 * `sentinel collections run [--as-of D] [--dry-run] [--json]`: the day's steps of the plan, each
 * done once (README "Collections"): reminders to the outbox, tasks for calls, visits, holds and
 * hand-overs. Run twice, the second run sends nothing; `--dry-run` claims and sends nothing.
 */
async function cmdCollectionsRun(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'as-of': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`collections run takes no argument "${positionals[0]}"`);
  const asOf = asOfOption(values['as-of']);
  const dryRun = values['dry-run'];
  // A reminder dated a day not yet come would tell the customer what it did not yet owe that day.
  if (asOf > today() && !dryRun)
    throw new UsageError(
      `collections run as of ${asOf}, a day not yet come (today is ${today()}): add --dry-run to see it`,
    );
  return withStore(values['data-dir'], async (env) => {
    const policy = await loadPolicy(env.store);
    if (!policy.collections) {
      console.log(`the policy in force (${policy.id}) has no collections section: nobody is chased`);
      return 0;
    }
    const progress = progressLine('collections run');
    let report: CollectionsRunReport;
    try {
      report = await localCollectionsRun(
        {
          store: env.store,
          dataDir: env.dataDir,
          now: () => new Date(),
          slackWebhookUrl: process.env.SENTINEL_SLACK_WEBHOOK_URL || undefined,
          // The running console serves the portal the reminders link to; stopped, `npm start`'s own.
          portalBaseUrl: await consoleUrl(env.dataDir).catch(() => 'http://127.0.0.1:8787'),
        },
        policy,
        {
          asOf,
          claimant: `collections-${asOf}-${randomBytes(4).toString('hex')}`,
          dryRun,
          onProgress: (n, total) => progress.update(`customers ${grouped(n)} of ${grouped(total)}`),
        },
      );
    } finally {
      progress.done();
    }
    if (values.json) {
      console.log(jsonText({ policyId: policy.id, ...report }));
      return report.failed > 0 ? 1 : 0;
    }
    const count = (o: string) => report.steps.filter((s) => s.outcome === o).length;
    const levels = Object.entries(report.byLevel)
      .map(
        ([l, by]) =>
          `${l} ${Object.entries(by)
            .map(([c, n]) => `${n} by ${c}`)
            .join(', ')}`,
      )
      .join('; ');
    console.log(
      `collections run as of ${asOf} under policy ${policy.id}${dryRun ? ' (dry run: nothing claimed or sent)' : ''}: ` +
        `${grouped(report.customers)} ${plural('customer')(report.customers)}; ` +
        (dryRun
          ? `${count('would-send')} ${plural('step')(count('would-send'))} would be taken`
          : `${count('sent')} ${plural('step')(count('sent'))} taken, ${count('held')} held by another run or sent already, ${report.failed} failed`) +
        (levels ? ` (${levels})` : ''),
    );
    if (report.steps.length === 0) return 0;
    console.log(
      `\n${table(
        ['customer', 'name', 'level', 'channel', 'demand', 'outcome', 'to'],
        report.steps.map((s) => [
          s.customerId,
          s.name ?? '',
          s.on === asOf ? s.level : `${s.level} (of ${s.on})`,
          s.channel,
          formatMoney(s.demand, s.currency),
          s.outcome,
          s.to ?? '-',
        ]),
        new Set([4]),
      )}`,
    );
    const notes = report.steps.filter((s) => s.note);
    if (notes.length > 0)
      console.log(`\nnotes:\n${notes.map((s) => `  ${s.customerId} ${s.level}: ${s.note}`).join('\n')}`);
    if (!dryRun && count('sent') > 0)
      console.log(
        `\nreminders are .eml files in ${mailDir(env.dataDir)}; calls, visits, holds and hand-overs in ${collectionsTasksDir(env.dataDir)}`,
      );
    return report.failed > 0 ? 1 : 0;
  });
}

/**
 * `sentinel collections promise CUSTOMER --amount A --by D --recorded-by WHO [--via V] [--note T]`:
 * records a promise to pay as of today (README "Collections"); refused with each bad field named.
 */
async function cmdPromise(args: string[]): Promise<number> {
  const { customerId, values } = recordArgs(args, {
    command: 'collections promise',
    ids: 1,
    usage:
      'collections promise takes one customer id: sentinel collections promise C1001 --amount 1200.00 --by 2026-12-20 --recorded-by anna',
    required: ['amount', 'by', 'recorded-by'],
    optional: ['via', 'note'],
  });
  return withStore(values['data-dir'], async (env) => {
    const policy = await loadPolicy(env.store);
    try {
      const { promise: p, recorded } = await recordPromise(
        { store: env.store, audit: localAuditStore(env) },
        policy,
        {
          customerId,
          amount: values.amount as string,
          promisedDate: values.by as string,
          recordedBy: values['recorded-by'] as string,
          via: values.via,
          note: values.note,
        },
        { today: today(), now: new Date().toISOString() },
      );
      if (values.json) console.log(jsonText({ recorded, promise: p }, p.currency));
      else
        console.log(
          `${recorded ? 'recorded' : 'already on file'}: ${p.promiseId} for ${customerId}, ${p.why}; the chase is held while it is pending`,
        );
      return 0;
    } catch (e) {
      return refusal('promise not recorded', e, PROMISE_FLAGS);
    }
  });
}

/**
 * The arguments of a command that records something on customers' files: `ids` positionals
 * (customer, then invoice), text options (those `required` must be given), `--json` and
 * `--data-dir`. A wrong count or a missing option is a usage error naming it.
 */
function recordArgs(
  args: string[],
  o: {
    readonly command: string;
    readonly ids: number;
    readonly usage: string;
    readonly required: readonly string[];
    readonly optional: readonly string[];
  },
): {
  customerId: string;
  /** The second positional (`''` when the command takes one). */
  invoiceId: string;
  values: Record<string, string | undefined> & { json: boolean };
} {
  const parsed = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...Object.fromEntries([...o.required, ...o.optional].map((n) => [n, { type: 'string' as const }])),
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  const values = parsed.values as Record<string, string | undefined> & { json: boolean };
  const ids = parsed.positionals;
  if (ids.length !== o.ids || ids.some((p) => p === '')) throw new UsageError(o.usage);
  for (const n of o.required) if (!values[n]) throw new UsageError(`${o.command} needs --${n}`);
  return { customerId: ids[0] as string, invoiceId: ids[1] ?? '', values };
}

/** The audit trail the CLI appends to: the local key and anchors, as the console's. */
function localAuditStore(env: {
  store: { client: DynamoTransferStore['client']; tableName: string };
  dataDir: string;
}) {
  const audit = localAudit(env.dataDir);
  return new DynamoTransferStore({
    client: env.store.client,
    tableName: env.store.tableName,
    auditKey: audit.auditKey,
    auditAnchor: audit.anchor,
  });
}

/** A refusal as one line: each field by its flag. */
function refusal(what: string, e: unknown, flags: Record<string, string>): never {
  if (e instanceof RefusedError)
    throw new CliFailure(
      `${what}: ${e.issues.map((i) => `${flags[i.field] ?? i.field} ${i.message}`).join('; ')}`,
    );
  if (e instanceof UnknownCustomerError) throw new CliFailure(e.message);
  throw e;
}

/**
 * `sentinel collections dispute CUSTOMER INVOICE --reason R --owner O --answer-by D --by WHO
 * [--amount A] [--line T] [--note T]`: on the whole invoice, or on the part `--amount` names.
 */
async function cmdDispute(args: string[]): Promise<number> {
  const { customerId, invoiceId, values } = recordArgs(args, {
    command: 'collections dispute',
    ids: 2,
    usage:
      'collections dispute takes a customer and an invoice: sentinel collections dispute C1001 INV-50012 --reason "goods damaged" --owner sales-anna --answer-by 2026-12-20 --by anna',
    required: ['reason', 'owner', 'answer-by', 'by'],
    optional: ['amount', 'line', 'note'],
  });
  return withStore(values['data-dir'], async (env) => {
    try {
      const { dispute: d, opened } = await openDispute(
        { store: env.store, audit: localAuditStore(env) },
        {
          customerId,
          invoiceId,
          reason: values.reason as string,
          owner: values.owner as string,
          answerBy: values['answer-by'] as string,
          openedBy: values.by as string,
          note: values.note,
          amount: values.amount,
          line: values.line,
        },
        { today: today(), now: new Date().toISOString() },
      );
      if (values.json) console.log(jsonText({ opened, dispute: d }));
      else
        console.log(
          `${opened ? 'opened' : 'already open'}: ${d.disputeId} on ${d.invoiceId} of ${d.customerId} ("${d.reason}")` +
            (d.amount !== undefined || d.line ? `, ${disputedWords(d)}` : '') +
            `, owner ${d.owner}, answer by ${d.answerBy}; ${d.amount !== undefined ? 'that part ' : ''}left out of every demand until resolved`,
        );
      return 0;
    } catch (e) {
      return refusal('dispute not opened', e, DISPUTE_FLAGS);
    }
  });
}

const DISPUTE_FLAGS: Record<string, string> = {
  invoice: 'invoice',
  amount: '--amount',
  line: '--line',
  reason: '--reason',
  owner: '--owner',
  answerBy: '--answer-by',
  openedBy: '--by',
  resolvedBy: '--by',
  outcome: '--outcome',
  note: '--note',
};

/** `sentinel collections resolve CUSTOMER INVOICE --outcome O --by WHO [--note T]`: closes its open dispute. */
async function cmdResolve(args: string[]): Promise<number> {
  const { customerId, invoiceId, values } = recordArgs(args, {
    command: 'collections resolve',
    ids: 2,
    usage: 'collections resolve takes a customer and an invoice',
    required: ['outcome', 'by'],
    optional: ['note'],
  });
  return withStore(values['data-dir'], async (env) => {
    try {
      const d = await resolveDispute(
        { store: env.store, audit: localAuditStore(env) },
        {
          customerId,
          invoiceId,
          outcome: values.outcome as string,
          resolvedBy: values.by as string,
          note: values.note,
        },
        { today: today(), now: new Date().toISOString() },
      );
      if (values.json) console.log(jsonText({ dispute: d }));
      else
        console.log(
          `resolved: ${d.disputeId} on ${d.invoiceId} of ${d.customerId}: ${d.outcome}, by ${d.resolvedBy} on ${d.resolvedOn}`,
        );
      return 0;
    } catch (e) {
      return refusal('dispute not resolved', e, DISPUTE_FLAGS);
    }
  });
}

/** `sentinel collections release CUSTOMER --by WHO --reason TEXT`: lifts its credit hold. */
async function cmdRelease(args: string[]): Promise<number> {
  const { customerId, values } = recordArgs(args, {
    command: 'collections release',
    ids: 1,
    usage: 'collections release takes one customer id',
    required: ['by', 'reason'],
    optional: [],
  });
  return withStore(values['data-dir'], async (env) => {
    try {
      const h = await releaseHold(
        { store: env.store, audit: localAuditStore(env) },
        { customerId, releasedBy: values.by as string, reason: values.reason as string },
        { today: today(), now: new Date().toISOString() },
      );
      if (values.json) console.log(jsonText({ hold: h }));
      else
        console.log(
          `released: ${customerId}'s credit hold (since ${h.since}, ${h.by}: ${h.reason}), by ${h.releasedBy} on ${h.releasedOn}: ${h.releaseReason}`,
        );
      return 0;
    } catch (e) {
      return refusal('hold not released', e, {
        releasedBy: '--by',
        reason: '--reason',
        customer: 'customer',
      });
    }
  });
}

/** `sentinel collections handover CUSTOMER [--as-of D] [--json]`: the latest file handed to legal by the day. */
async function cmdHandover(args: string[]): Promise<number> {
  const { customerId, asOf, values } = oneCustomerAsOf(args, 'collections handover');
  return withStore(values['data-dir'], async (env) => {
    const { handovers } = await env.store.loadCustomerPartition(customerId);
    const h = (handovers ?? []).filter((x) => x.on <= asOf).at(-1);
    if (values.json) {
      console.log(jsonText({ customerId, handover: h ?? null }, h?.currency));
      return 0;
    }
    if (!h) {
      console.log(`${customerId} was not handed over to legal by ${asOf}`);
      return 0;
    }
    const m = (n: number) => formatMoney(n, h.currency);
    console.log(
      [
        `${h.name ?? customerId} (${customerId}) handed over to legal on ${h.on} ("${h.level}"): ${m(h.demand)} demanded` +
          (h.state === 'withdrawn'
            ? `; withdrawn on ${h.withdrawnOn} by ${h.withdrawnBy}: ${h.withdrawReason}`
            : ''),
        '',
        table(
          ['overdue invoice', 'due', 'days', 'open'],
          h.overdue.map((i) => [i.invoiceId, i.dueDate, String(i.daysPastDue), m(i.open)]),
          new Set([2, 3]),
        ),
        ...(h.disputed.length > 0
          ? [
              '',
              `disputed, not demanded: ${h.disputed
                .map(
                  (i) =>
                    `${i.invoiceId} ${m(i.open)}${i.invoiceOpen !== undefined ? ` of ${m(i.invoiceOpen)} open` : ''}${i.line ? ` (line: ${i.line})` : ''}`,
                )
                .join(', ')}`,
            ]
          : []),
        '',
        `steps before it: ${h.contacts.map((c) => `${c.on} ${c.level} (${c.channel})`).join(', ') || 'none'}`,
        `promises: ${h.promises.map((p) => `${p.promiseId} ${m(p.amount)} by ${p.promisedDate}, ${p.state}`).join('; ') || 'none'}`,
      ].join('\n'),
    );
    return 0;
  });
}

/** `sentinel collections assign CUSTOMER --to WHO --by WHO`: who works the customer from today. */
async function cmdAssign(args: string[]): Promise<number> {
  const { customerId, values } = recordArgs(args, {
    command: 'collections assign',
    ids: 1,
    usage: 'collections assign takes one customer id',
    required: ['to', 'by'],
    optional: [],
  });
  return withStore(values['data-dir'], async (env) => {
    try {
      const { assignment: a, before } = await assignCollector(
        { store: env.store, audit: localAuditStore(env) },
        { customerId, collector: values.to as string, by: values.by as string },
        { today: today(), now: new Date().toISOString() },
      );
      if (values.json) console.log(jsonText({ assignment: a, before: before ?? null }));
      else
        console.log(
          `assigned: ${customerId} to ${a.collector} from ${a.since}${before ? ` (was ${before.collector})` : ''}, by ${a.by}`,
        );
      return 0;
    } catch (e) {
      return refusal('not assigned', e, { collector: '--to', by: '--by' });
    }
  });
}

/** `sentinel collections log CUSTOMER --outcome O --by WHO [--channel phone|visit] [--note T]`. */
async function cmdLog(args: string[]): Promise<number> {
  const { customerId, values } = recordArgs(args, {
    command: 'collections log',
    ids: 1,
    usage: 'collections log takes one customer id',
    required: ['outcome', 'by'],
    optional: ['channel', 'note'],
  });
  return withStore(values['data-dir'], async (env) => {
    try {
      const c = await logCall(
        { store: env.store },
        {
          customerId,
          outcome: values.outcome as string,
          by: values.by as string,
          channel: values.channel,
          note: values.note,
        },
        { today: today(), now: new Date().toISOString() },
      );
      if (values.json) console.log(jsonText({ call: c }));
      else {
        console.log(`logged: ${c.channel} with ${customerId} on ${c.on} by ${c.by}: ${c.outcome}`);
        // What the call produced is recorded by its own command, with its own checks.
        if (c.outcome === 'promised')
          console.log(
            `record the promise: sentinel collections promise ${customerId} --amount A --by D --recorded-by ${c.by}`,
          );
        if (c.outcome === 'disputed')
          console.log(
            `open the dispute: sentinel collections dispute ${customerId} INVOICE --reason R --owner O --answer-by D --by ${c.by}`,
          );
      }
      return 0;
    } catch (e) {
      return refusal('not logged', e, {
        outcome: '--outcome',
        by: '--by',
        channel: '--channel',
        note: '--note',
      });
    }
  });
}

/** `sentinel collections withdraw CUSTOMER --by WHO --reason TEXT`: withdraws its open hand-over. */
async function cmdWithdraw(args: string[]): Promise<number> {
  const { customerId, values } = recordArgs(args, {
    command: 'collections withdraw',
    ids: 1,
    usage: 'collections withdraw takes one customer id',
    required: ['by', 'reason'],
    optional: [],
  });
  return withStore(values['data-dir'], async (env) => {
    try {
      const h = await withdrawHandover(
        { store: env.store, audit: localAuditStore(env) },
        { customerId, withdrawnBy: values.by as string, reason: values.reason as string },
        { today: today(), now: new Date().toISOString() },
      );
      if (values.json) console.log(jsonText({ handover: h }, h.currency));
      else
        console.log(
          `withdrawn: ${customerId}'s hand-over of ${h.on}, by ${h.withdrawnBy} on ${h.withdrawnOn}: ${h.withdrawReason}`,
        );
      return 0;
    } catch (e) {
      return refusal('hand-over not withdrawn', e, {
        withdrawnBy: '--by',
        reason: '--reason',
        customer: 'customer',
      });
    }
  });
}

/** The arguments of a command that lists one customer's records as of a day: `CUSTOMER [--as-of D] [--json]`. */
function oneCustomerAsOf(args: string[], command: string) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'as-of': { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  const [customerId, ...rest] = positionals;
  if (!customerId || rest.length > 0) throw new UsageError(`${command} takes one customer id`);
  return { customerId, asOf: asOfOption(values['as-of']), values };
}

/** `sentinel collections disputes CUSTOMER [--as-of D] [--json]`: open ones first, with their age. */
async function cmdDisputes(args: string[]): Promise<number> {
  const { customerId, asOf, values } = oneCustomerAsOf(args, 'collections disputes');
  return withStore(values['data-dir'], async (env) => {
    const list = await disputesOf(env.store, customerId, asOf);
    if (values.json) {
      console.log(jsonText({ customerId, asOf, disputes: list }));
      return 0;
    }
    if (list.length === 0) {
      console.log(`${customerId} has no dispute recorded by ${asOf}`);
      return 0;
    }
    console.log(`disputes of ${customerId} as of ${asOf}, open ones first:\n`);
    console.log(
      table(
        ['invoice', 'dispute', 'opened', 'owner', 'answer by', 'days', 'state', 'disputed', 'reason'],
        list.map((d) => [
          d.invoiceId,
          d.disputeId,
          d.openedOn,
          d.owner,
          d.answerBy,
          String(d.days),
          d.open ? (d.late ? 'open, answer late' : 'open') : `${d.outcome} (${d.resolvedOn})`,
          // The part as recorded; the demand leaves out at most what is open of it on the day.
          d.amount !== undefined && d.currency ? formatMoney(d.amount, d.currency) : 'whole invoice',
          d.line ? `${d.reason} (line: ${d.line})` : d.reason,
        ]),
        new Set([5, 7]),
      ),
    );
    return 0;
  });
}

/** The CLI's flag for each field a promise can be refused for. */
const PROMISE_FLAGS: Record<string, string> = {
  amount: '--amount',
  promisedDate: '--by',
  recordedBy: '--recorded-by',
  via: '--via',
  note: '--note',
};

/** `sentinel collections promises CUSTOMER [--as-of D] [--json]`: its promises, rated as of the day. */
async function cmdPromises(args: string[]): Promise<number> {
  const { customerId, asOf, values } = oneCustomerAsOf(args, 'collections promises');
  return withStore(values['data-dir'], async (env) => {
    const policy = await loadPolicy(env.store);
    const list = await promisesOf(env.store, policy, customerId, asOf);
    if (values.json) {
      console.log(jsonText({ customerId, asOf, promises: list }, list[0]?.currency));
      return 0;
    }
    if (list.length === 0) {
      console.log(`${customerId} made no promise to pay by ${asOf}`);
      return 0;
    }
    console.log(`promises to pay of ${customerId} as of ${asOf}, newest first:\n`);
    console.log(
      table(
        ['promise', 'made', 'by', 'amount', 'paid', 'state', 'recorded by'],
        list.map((p) => [
          p.promiseId,
          p.madeOn,
          p.promisedDate,
          formatMoney(p.amount, p.currency),
          formatMoney(p.paid, p.currency),
          p.state,
          `${p.recordedBy} (${p.via})`,
        ]),
        new Set([3, 4]),
      ),
    );
    return 0;
  });
}

async function cmdCollectionsBacktest(args: string[]): Promise<number> {
  const { from, to, ...values } = replayOptions(args, 'collections backtest');
  const candidate = values.policy ? await readPolicyFile(values.policy) : undefined;
  return withStore(values.dataDir, async (env) => {
    const policy = candidate ?? (await loadPolicy(env.store));
    const plan = policy.collections;
    if (!plan) {
      console.log(`policy ${policy.id} has no collections section: nobody would be chased`);
      return 0;
    }
    const ids = await env.store.listCustomerIds();
    const risk = new Map<string, 'low' | 'medium' | 'high' | undefined>();
    const books = await mapLimit(ids, 8, async (id) => {
      const part = await env.store.loadCustomerPartition(id);
      const f = creditFileOf(id, part);
      risk.set(id, part.assessment?.riskClass);
      return { customerId: id, currency: f.currency, invoices: f.invoices, payments: f.payments };
    });
    const r = backtestCollections(books, plan, { from, to, riskClassOf: (id) => risk.get(id) });
    if (values.json) {
      // `demanded` is keyed by currency: each sum as its currency's decimal text.
      const levels = r.levels.map((l) => ({
        ...l,
        demanded: Object.fromEntries(Object.entries(l.demanded).map(([c, n]) => [c, formatMinor(n, c)])),
      }));
      console.log(jsonText({ policyId: policy.id, ...r, levels }));
      return 0;
    }
    console.log(
      `collections backtest of policy ${policy.id}, ${from} to ${to}, ${grouped(r.customers)} ${plural('customer')(r.customers)} (each on the ladder of its latest risk class):\n`,
    );
    console.log(
      table(
        ['level', 'messages', 'customers', 'demanded', 'paid within a week anyway'],
        r.levels.map((l) => [
          l.level,
          String(l.messages),
          String(l.customers),
          Object.entries(l.demanded)
            .sort()
            .map(([c, n]) => formatMoney(n, c))
            .join(', ') || '-',
          String(l.paidWithinWindow),
        ]),
        new Set([1, 2, 4]),
      ),
    );
    return 0;
  });
}
