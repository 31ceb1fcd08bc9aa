import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { DynamoStore } from '../../../functions/adapters/dynamodb.ts';
import { DynamoTransferStore } from '../../../functions/adapters/dynamodb-transfers.ts';
import { mapLimit } from '../../../functions/core/concurrency.ts';
import { dateInZone, type IsoDate } from '../../../functions/core/dates.ts';
import { grouped } from '../../../functions/core/paging.ts';
import { type Alert, type AlertCommand, alertRef, applyCommand } from '../../../functions/credit/alerts.ts';
import { assess, explainAssessment } from '../../../functions/credit/assess.ts';
import { backtest } from '../../../functions/credit/backtest.ts';
import { decisionFor } from '../../../functions/credit/decide.ts';
import {
  asOfFile,
  creditFileOf,
  type EvaluationRun,
  type WhatIfRun,
  whatIf,
} from '../../../functions/credit/evaluate.ts';
import {
  type Policy,
  parsePolicy,
  policyInForce,
  RULES,
  SEVERITIES,
  SEVERITY_RANK,
  type Severity,
} from '../../../functions/credit/policy.ts';
import type { AlertFilter, AlertList } from '../../../functions/credit/ports.ts';
import { evaluateRules, explainCandidate } from '../../../functions/credit/rules.ts';
import { POLICY_SUBJECT } from '../../../functions/transfers/request.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../../policies/index.ts';
import { LocalDailyEvaluation } from '../runtime/daily-evaluation.ts';
import { OutboxAlertNotifier } from '../runtime/files.ts';
import type { LocalEnv } from '../runtime/index.ts';
import {
  CliFailure,
  dateOption,
  fileProblem,
  jsonText,
  limitOption,
  pageOrAll,
  plural,
  replayOptions,
  shownText,
  splitSub,
  table,
  timeZone,
  today,
  UsageError,
  withStore,
} from './common.ts';
import { type Progress, progressLine } from './progress.ts';
import { consoleApi } from './transfers.ts';

export async function loadPolicy(store: Pick<DynamoStore, 'getPolicy'>): Promise<Policy> {
  return policyInForce(await store.getPolicy(), DEFAULT_POLICY_DOCUMENT);
}

export async function readPolicyFile(path: string): Promise<Policy> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new CliFailure(`cannot read the policy ${path}: ${fileProblem(e)}`);
  }
  const r = parsePolicy(doc);
  if (!r.ok)
    throw new UsageError(
      `policy ${path} is not valid; the policy in force is unchanged:\n${r.issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
    );
  return r.policy;
}

// ---- evaluate ----

/**
 * `evaluate [--as-of D]`: as of today (the team's zone), the live evaluation that stores
 * assessments and alerts and notifies; as of any other day, a what-if that prints what it found
 * and stores nothing (a past date must never change today's alerts; history is the backtest's).
 */
export async function cmdEvaluate(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'as-of': { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  const now = new Date();
  const day = dateInZone(now, timeZone());
  const asOf = dateOption('as-of', values['as-of'], day);
  return withStore(values['data-dir'], async (env) => {
    const policy = await loadPolicy(env.store);
    const progress = progressLine(asOf !== day ? `what-if as of ${asOf}` : 'evaluate');
    let out: { json: string; words: string };
    try {
      out = await evaluationText(countingLoads(env.store, progress), env.dataDir, policy, { asOf, day, now });
    } finally {
      progress.done();
    }
    console.log(values.json ? out.json : out.words);
    return 0;
  });
}

/**
 * The store as the evaluation reads it, telling the progress line how many customers are read:
 * the same store, so the counts cost nothing.
 */
function countingLoads(store: DynamoStore, progress: Progress): DynamoStore {
  let total = 0;
  let done = 0;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'listCustomerIds')
        return async () => {
          const ids = await target.listCustomerIds();
          total = ids.length;
          return ids;
        };
      if (prop === 'loadCustomerPartition')
        return async (id: string) => {
          const part = await target.loadCustomerPartition(id);
          progress.update(`${grouped(++done)} of ${grouped(total)} customers`);
          return part;
        };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** The evaluation (as of today) or the what-if (another day), as JSON text when `json`. */
async function evaluationText(
  store: DynamoStore,
  dataDir: string,
  policy: Policy,
  at: { asOf: IsoDate; day: IsoDate; now: Date },
): Promise<{ json: string; words: string }> {
  const { asOf, day, now } = at;
  if (asOf !== day) {
    const run = await whatIf({ store, policy }, { asOf });
    return { json: jsonText(run), words: whatIfText(run, day) };
  }
  // The daily evaluation's state machine, as `npm start` and AWS run it (its Map inline here).
  const { run } = await new LocalDailyEvaluation({
    store,
    notifier: new OutboxAlertNotifier(dataDir),
    policy: async () => policy,
    clock: { now: () => now },
    timeZone: timeZone(),
    dataDir,
  }).run({ asOf });
  return { json: jsonText({ whatIf: false, ...run }), words: liveText(run) };
}

const ratingsText = (ratings: Record<string, number>) =>
  Object.entries(ratings)
    .sort()
    .map(([r, n]) => `${r} ${n}`)
    .join(', ');

function liveText(run: EvaluationRun): string {
  return (
    `evaluated ${run.customers} customers as of ${run.asOf} under policy ${run.policyId}: ` +
    `ratings ${ratingsText(run.ratings)}; ${run.ratingChanges} rating changes; alerts: ${run.opened} opened, ` +
    `${run.escalated} escalated, ${run.resolved} resolved, ${run.active} active` +
    (run.skipped > 0 ? `; ${run.skipped} customers skipped (already evaluated as of a later day)` : '') +
    (run.history.packed + run.history.deleted > 0
      ? `; settled history: ${run.history.packed} items packed, ${run.history.deleted} full items deleted once packed`
      : '')
  );
}

/** A what-if in words: every alert it would have active, most severe first, and its counts. */
function whatIfText(run: WhatIfRun, today: string): string {
  const alerts = run.results
    .flatMap((r) => r.findings)
    .sort(
      (a, b) =>
        SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
        a.customerId.localeCompare(b.customerId) ||
        RULES.indexOf(a.rule) - RULES.indexOf(b.rule),
    );
  const lines = [
    `what-if as of ${run.asOf}: nothing was stored (only an evaluation as of today, ${today}, moves the alerts)`,
    `${run.customers} customers under policy ${run.policyId}: ratings ${ratingsText(run.ratings) || 'none'}`,
  ];
  if (alerts.length > 0)
    lines.push(
      '',
      table(
        ['severity', 'customer', 'rule', 'action', 'summary'],
        alerts.map((a) => [a.severity, a.customerId, a.rule, a.action.replace('_', ' '), a.summary]),
        new Set(),
      ),
      '',
    );
  const byRule = RULES.filter((r) => run.byRule[r] > 0).map((r) => `${r} ${run.byRule[r]}`);
  lines.push(
    `${run.alerts} alert${run.alerts === 1 ? '' : 's'} would be active as of ${run.asOf}: ` +
      `${[...SEVERITIES]
        .reverse()
        .map((v) => `${v} ${run.bySeverity[v]}`)
        .join(', ')}` +
      (byRule.length > 0 ? `; by rule: ${byRule.join(', ')}` : ''),
  );
  return lines.join('\n');
}

// ---- alerts ----

const STATUSES = ['active', 'open', 'acknowledged', 'snoozed', 'resolved'] as const;
type StatusOption = (typeof STATUSES)[number];

function alertRow(a: Alert): string[] {
  return [a.severity, a.customerId, a.rule, a.status, a.openedAsOf, a.action.replace('_', ' '), a.summary];
}

/** The list and filter a `--status` and `--severity` name. */
function alertQuery(status: StatusOption, severity: Severity | undefined): [AlertList, AlertFilter] {
  const which: AlertList = status === 'resolved' ? 'resolved' : 'active';
  return [which, { severity, status: status === 'active' || status === 'resolved' ? undefined : status }];
}

/** "active alerts" / "critical open alerts": what a list of alerts holds. */
const alertsNoun = (status: StatusOption, severity: Severity | undefined) =>
  plural(`${severity ? `${severity} ` : ''}${status} alert`);

export async function cmdAlerts(args: string[]): Promise<number> {
  const [sub] = args;
  if (sub === 'ack' || sub === 'snooze' || sub === 'resolve') return alertCommand(sub, args.slice(1));
  const { values } = parseArgs({
    args,
    options: {
      status: { type: 'string', default: 'active' },
      severity: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  const status = values.status as StatusOption;
  if (!STATUSES.includes(status)) throw new UsageError(`--status ${status}: one of ${STATUSES.join(', ')}`);
  const severity = values.severity as Severity | undefined;
  if (severity !== undefined && !SEVERITIES.includes(severity))
    throw new UsageError(`--severity ${severity}: one of ${[...SEVERITIES].reverse().join(', ')}`);
  const limit = limitOption(values.limit, values.json);
  const [which, filter] = alertQuery(status, severity);
  return withStore(values['data-dir'], async (env) => {
    // Every alert, or the first `limit` with the whole list counted by the store.
    const page = await pageOrAll(
      limit,
      (size) => env.store.alertsPage(which, filter, { size }),
      () => env.store.listAlerts(which, filter),
    );
    if (values.json) {
      console.log(jsonText(page.items));
      return 0;
    }
    if (page.total === 0) {
      console.log(`no ${severity ? `${severity} ` : ''}${status} alerts`);
      return 0;
    }
    console.log(
      table(
        ['severity', 'customer', 'rule', 'status', 'opened', 'action', 'summary'],
        page.items.map(alertRow),
        new Set(),
      ),
    );
    const order = which === 'resolved' ? 'newest first' : 'most severe first';
    console.log(
      `\n${shownText(page, alertsNoun(status, severity), order)}; answer one with: sentinel alerts ack|snooze|resolve <customer>/<rule>`,
    );
    return 0;
  });
}

async function alertCommand(kind: 'ack' | 'snooze' | 'resolve', args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      until: { type: 'string' },
      by: { type: 'string' },
      note: { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`alerts ${kind} takes one alert id (<customer>/<rule>)`);
  const id = positionals[0] as string;
  const ref = alertRef(id);
  if (!ref)
    throw new UsageError(
      `alerts ${kind} ${id}: an alert id is <customer>/<rule>, the rule one of ${RULES.join(', ')}`,
    );
  const by = values.by ?? process.env.USER ?? 'unknown';
  let cmd: AlertCommand;
  if (kind === 'snooze') {
    if (!values.until) throw new UsageError('alerts snooze needs --until YYYY-MM-DD');
    cmd = { kind, by, until: dateOption('until', values.until), note: values.note };
  } else cmd = { kind, by, note: values.note };
  return withStore(values['data-dir'], async (env) => {
    // Read by its key: found however many alerts are active.
    const alert = await env.store.activeAlert(ref.customerId, ref.rule);
    if (!alert || (ref.alertId !== undefined && alert.alertId !== ref.alertId))
      throw new CliFailure(`there is no active alert ${id} (see \`sentinel alerts\`)`);
    const next = applyCommand(alert, cmd, new Date().toISOString(), today());
    if ('refused' in next) {
      console.error(next.refused);
      return 1;
    }
    await env.store.saveEvaluation([{ customerId: alert.customerId, alerts: [next] }]);
    console.log(`${alert.customerId}/${alert.rule}: ${alert.status} -> ${next.status}`);
    return 0;
  });
}

// ---- policy ----

/** The credit policy changes asked (the approval requests filed under `credit-policy`), newest first. */
async function policyChanges(env: LocalEnv) {
  const transfers = new DynamoTransferStore({ client: env.store.client, tableName: env.store.tableName });
  const asked = (await transfers.transfersOf(POLICY_SUBJECT)).filter((t) => t.policyChange !== undefined);
  asked.sort((a, b) => (a.requestedAt < b.requestedAt ? 1 : -1));
  return Promise.all(
    asked.map(async (t) => {
      const pending = await env.store.getPendingPolicy(t.transferId);
      const c = t.policyChange as NonNullable<typeof t.policyChange>;
      return {
        transferId: t.transferId,
        policyId: c.policyId,
        hash: c.hash,
        replaces: c.replaces,
        requester: t.request.requester,
        requestedAt: t.requestedAt,
        status: t.status,
        where:
          t.status !== 'pending'
            ? t.status
            : t.level === undefined
              ? 'at the risk gate'
              : `waiting for level ${t.level} of ${t.levels?.length ?? '?'} (${t.levels?.find((l) => l.level === t.level)?.name ?? ''})`,
        outcome: t.outcome,
        changes: c.changes,
        diff: pending?.diff ?? [],
      };
    }),
  );
}

export async function cmdPolicy(args: string[]): Promise<number> {
  const [sub, rest] = splitSub(args);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      by: { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  if (sub === 'check' || sub === 'set') {
    if (positionals.length !== 1) throw new UsageError(`policy ${sub} takes one policy JSON file`);
    const policy = await readPolicyFile(positionals[0] as string);
    if (sub === 'check') {
      console.log(`policy ${policy.id} is valid`);
      return 0;
    }
    // Put to the approval chain, which runs in `npm start`: nothing is in force until approved.
    if (!values.by) throw new UsageError('policy set needs --by WHO (a person of the approval policy)');
    const { id: _id, ...document } = policy;
    const dataDir = resolve(values['data-dir'] ?? '.sentinel');
    const r = await consoleApi(dataDir, 'POST', '/api/policy', { document, by: values.by });
    if (r.status === 400) {
      const issues = (r.json.issues ?? []) as { field: string; message: string }[];
      console.error(
        `policy ${policy.id} was not put to approval:\n${issues.map((i) => `  ${i.field}: ${i.message}`).join('\n')}`,
      );
      return 1;
    }
    if (r.status !== 202) throw new CliFailure(`the console answered ${r.status}: ${JSON.stringify(r.json)}`);
    const asked = r.json as { transferId: string; superseded: string[] };
    if (values.json) console.log(JSON.stringify(asked, null, 2));
    else {
      console.log(
        `policy ${policy.id} is pending approval as ${asked.transferId}; the policy in force is unchanged until its last level approves`,
      );
      for (const t of asked.superseded) console.log(`it supersedes the pending policy change ${t}, recalled`);
      console.log(`see \`sentinel transfer show ${asked.transferId}\` and \`sentinel policy show\``);
    }
    return 0;
  }
  if (sub === 'show' || sub === undefined)
    return withStore(values['data-dir'], async (env) => {
      const stored = await env.store.getPolicy();
      const policy = await loadPolicy(env.store);
      // A policy set under an earlier version that this one refuses (a retired factor, say) is not
      // in force: the shipped default is, and the person reading this must be told why.
      const refused = stored ? parsePolicy(stored.document) : undefined;
      const changes = await policyChanges(env);
      if (values.json) {
        console.log(JSON.stringify({ inForce: policy, changes }, null, 2));
        return 0;
      }
      if (stored && refused && !refused.ok)
        console.log(
          [
            `policy in force: ${policy.id} (the shipped default)`,
            `the policy set by ${stored.setBy} at ${stored.setAt} no longer validates, so it is not in force:`,
            ...refused.issues.map((i) => `  ${i.path}: ${i.message}`),
            'correct it and set it again: sentinel policy check FILE, then sentinel policy set FILE --by WHO',
          ].join('\n'),
        );
      else
        console.log(
          `policy in force: ${policy.id}${stored ? ` (since ${stored.setAt}, set by ${stored.setBy}${stored.approvedIn ? `, approved in ${stored.approvedIn}` : ''})` : ' (the shipped default)'}`,
        );
      const pending = changes.filter((c) => c.status === 'pending');
      console.log(
        pending.length === 0
          ? 'no policy change is pending'
          : pending
              .map(
                (c) =>
                  `pending: ${c.policyId} (${c.transferId}, asked by ${c.requester} at ${c.requestedAt}): ${c.where}; ${c.changes} field${c.changes === 1 ? '' : 's'} change:\n${c.diff.map((d) => `  ${d.path}: ${d.from ?? '(none)'} -> ${d.to ?? '(none)'}`).join('\n')}`,
              )
              .join('\n'),
      );
      const ended = changes.filter((c) => c.status !== 'pending').slice(0, 5);
      if (ended.length > 0)
        console.log(
          `latest decided:\n${ended.map((c) => `  ${c.policyId} (${c.transferId}): ${c.status}${c.outcome ? `, ${c.outcome}` : ''}`).join('\n')}`,
        );
      return 0;
    });
  throw new UsageError(`policy ${sub}: use policy show | check FILE | set FILE`);
}

// ---- customer --explain ----

export async function explainCustomer(
  env: LocalEnv,
  id: string,
  asOf: IsoDate,
  json: boolean,
): Promise<number> {
  const part = await env.store.loadCustomerPartition(id);
  if (!part.books.customer && part.books.invoices.length === 0 && part.books.payments.length === 0)
    throw new CliFailure(`there is no customer ${id} on file (see \`sentinel customers\`)`);
  const policy = await loadPolicy(env.store);
  const file = asOfFile(creditFileOf(id, part), asOf);
  const assessed = assess(file, asOf, policy);
  const candidates = evaluateRules(file, assessed, policy).map(explainCandidate);
  const { figures: _f, ...explained } = explainAssessment(assessed);
  const assessment = { ...explained, decision: decisionFor(file, assessed, part.alerts, policy) };
  const a = assessment;
  if (json) {
    console.log(
      jsonText(
        { assessment, wouldAlert: candidates, activeAlerts: part.alerts, review: part.review },
        assessed.currency,
      ),
    );
    return 0;
  }
  const name = part.books.customer?.name;
  console.log(`${id}${name ? ` ${name}` : ''} as of ${asOf}, policy ${policy.id}`);
  console.log(`score ${a.score}/100, rating ${a.rating}, ${a.riskClass} risk\n`);
  console.log(
    table(
      ['factor', 'points', 'of', 'code', 'why'],
      a.factors.map((f) => [f.factor, String(f.points), String(f.maxPoints), f.code, f.reason]),
      new Set([1, 2]),
    ),
  );
  console.log(`\ncredit limit: ${a.limit.reason}`);
  for (const b of a.limit.basis) console.log(`  ${b}`);
  console.log(`a review today would ${a.decision.outcome}: ${a.decision.words}`);
  console.log(
    candidates.length === 0
      ? '\nno early-warning rule fires'
      : `\nearly warnings as of ${asOf}:\n${candidates.map((c) => `  [${c.severity}] ${c.rule}: ${c.summary} -> ${c.action.replace('_', ' ')}`).join('\n')}`,
  );
  if (part.alerts.length > 0)
    console.log(
      `\nstored active alerts:\n${part.alerts.map((x) => `  [${x.severity}] ${x.rule} (${x.status}) since ${x.openedAsOf}`).join('\n')}`,
    );
  const r = part.review;
  console.log(
    r
      ? `\nperiodic review: next on ${r.nextReviewOn} (${r.riskClass} risk); last on ${r.reviewedOn}, rating ${r.rating} (${r.score})`
      : '\nperiodic review: not reviewed yet (the next review run selects it)',
  );
  return 0;
}

// ---- backtest ----

export async function cmdBacktest(args: string[]): Promise<number> {
  const { from, to, ...values } = replayOptions(args, 'backtest');
  const candidate = values.policy ? await readPolicyFile(values.policy) : undefined;
  return withStore(values.dataDir, async (env) => {
    const policy = candidate ?? (await loadPolicy(env.store));
    const progress = progressLine('backtest');
    const ids = await env.store.listCustomerIds();
    let loaded = 0;
    const files = await mapLimit(ids, 8, async (id) => {
      const f = creditFileOf(id, await env.store.loadCustomerPartition(id));
      progress.update(`loading customers ${grouped(++loaded)} of ${grouped(ids.length)}`);
      return { ...f, recent: [] };
    });
    let result: ReturnType<typeof backtest>;
    try {
      result = backtest(files, policy, from, to, (day, days) =>
        progress.update(`day ${grouped(day)} of ${grouped(days)}, ${grouped(ids.length)} customers`),
      );
    } finally {
      progress.done();
    }
    if (values.json) {
      console.log(jsonText(result));
      return 0;
    }
    console.log(
      `backtest of policy ${result.policyId}, ${result.from} to ${result.to} (${result.days} days, ${result.customers} customers); ` +
        `${result.reached60.length} customers first reached 60 days past due in the period\n`,
    );
    console.log(
      table(
        ['rule', 'alerts', 'customers', 'warned ahead of 60 DPD', 'median lead days'],
        result.rules.map((r) => [
          r.rule,
          String(r.raised),
          String(r.customers),
          `${r.warnedAhead} of ${result.reached60.length}`,
          r.medianLeadDays === null ? '-' : String(r.medianLeadDays),
        ]),
        new Set([1, 2, 3, 4]),
      ),
    );
    return 0;
  });
}
