import { constants, createReadStream } from 'node:fs';
import { access, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SLACK_MODES, type SlackMode } from '../../../functions/alerts/slack.ts';
import { recheckHeld } from '../../../functions/checks/holds.ts';
import { portalHttp } from '../../../functions/collections/portal.ts';
import { minorDigits } from '../../../functions/core/currencies.ts';
import {
  CANONICAL_NUMBER_STYLE,
  formatMinor,
  formatMoney,
  parseMinorUnits,
} from '../../../functions/core/money.ts';
import { grouped } from '../../../functions/core/paging.ts';
import { disputedOpen } from '../../../functions/core/receivables.ts';
import type { PolicyChanges } from '../../../functions/credit/ports.ts';
import { ConfigError } from '../../../functions/ingest/errors.ts';
import { isKind, KINDS, type Kind } from '../../../functions/ingest/kinds.ts';
import { clip } from '../../../functions/ingest/limits.ts';
import { ingest } from '../../../functions/ingest/pipeline.ts';
import type { IngestRun } from '../../../functions/ingest/ports.ts';
import {
  canonicalProfile,
  isAnyKind,
  type Profile,
  parseProfile,
  profileForKind,
} from '../../../functions/ingest/profile.ts';
import { rejectsNameFor, warningsNameFor } from '../../../functions/ingest/rejects.ts';
import { ProfileCatalog, yieldsReceivables } from '../../../functions/ingest/uploads.ts';
import { predictionsJson } from '../../../functions/predict/book.ts';
import { type CustomerLine, ReceivablesQueries } from '../../../functions/receivables/queries.ts';
import { limitApprovals } from '../../../functions/transfers/app.ts';
import { startConsole } from '../console/index.ts';
import { startCheckChainer } from '../runtime/checks.ts';
import { localAuditTrail } from '../runtime/collections.ts';
import { demoFiles } from '../runtime/demo.ts';
import { LocalEvaluator } from '../runtime/evaluator.ts';
import { FileReportSink, InboxObjectStore, OutboxNotifier } from '../runtime/files.ts';
import {
  INBOX_BUCKET,
  type InboxEvents,
  InboxWatcher,
  localIngestHandler,
  localOrderBook,
} from '../runtime/inbox.ts';
import { LOCAL_TABLE, localRunOwner, openLocal } from '../runtime/index.ts';
import { localMetrics } from '../runtime/metrics.ts';
import { opsSummary } from '../runtime/ops.ts';
import { localReviewsRuntime } from '../runtime/reviews.ts';
import { consoleTransfers, localLinkKeys, localTransfers } from '../runtime/transfers.ts';
import { cmdApplication, localApplications } from './applications.ts';
import { chainLocalChecks, cmdCreditCheck, localChecks, recheckText } from './checks.ts';
import { cmdCollections } from './collections.ts';
import {
  asOfOption,
  CliFailure,
  fileProblem,
  jsonText,
  limitOption,
  pageOrAll,
  plural,
  shownText,
  table,
  timeZone,
  today,
  UsageError,
  withStore,
} from './common.ts';
import { cmdAlerts, cmdBacktest, cmdEvaluate, cmdPolicy, explainCustomer, loadPolicy } from './credit.ts';
import { cmdForecast, customerPredictions, predictionsText } from './forecast.ts';
import { commandHelp, isTopic, overview, topicOf } from './help.ts';
import { cmdMetrics } from './ops.ts';
import { cmdReview, describeRun } from './reviews.ts';
import { cmdApprovals, cmdAudit, cmdTransfer, loadApprovalPolicy, publishConsole } from './transfers.ts';

async function resolveProfile(nameOrPath: string, catalog: ProfileCatalog): Promise<Profile> {
  const shipped = catalog.get(nameOrPath);
  if (shipped) return shipped;
  if (!nameOrPath.endsWith('.json'))
    throw new UsageError(
      `unknown profile "${nameOrPath}" (shipped: ${catalog.names().join(', ')}; or a .json file)`,
    );
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(nameOrPath, 'utf8'));
  } catch (e) {
    throw new CliFailure(`cannot read the profile ${nameOrPath}: ${fileProblem(e)}`);
  }
  try {
    return parseProfile(raw, `profile ${nameOrPath}`);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * A report (`beside`, named after the upload) goes next to the upload, unless that folder is
 * read-only (a shared dataset, a mounted export): then under the data dir, and the run says where.
 */
async function reportPathFor(beside: string, dataDir: string, reportsDir?: string): Promise<string> {
  if (reportsDir) {
    await mkdir(reportsDir, { recursive: true });
    return join(reportsDir, basename(beside));
  }
  try {
    const folder = await stat(dirname(resolve(beside)));
    if ((folder.mode & 0o222) !== 0) {
      await access(dirname(resolve(beside)), constants.W_OK);
      return beside;
    }
  } catch {
    // fall through to the data dir
  }
  const dir = join(dataDir, 'rejects');
  await mkdir(dir, { recursive: true });
  return join(dir, basename(beside));
}

function progressBar(file: string, total: number | undefined) {
  if (!process.stderr.isTTY || !total || total < 5_000_000) return undefined;
  const started = Date.now();
  let last = 0;
  return (p: { bytes: number; rows: number }) => {
    const now = Date.now();
    if (now - last < 200 && p.bytes < total) return;
    last = now;
    const share = Math.min(1, p.bytes / total);
    const width = 30;
    const done = Math.round(share * width);
    const mbs = p.bytes / 1e6 / Math.max(0.001, (now - started) / 1000);
    process.stderr.write(
      `\r${basename(file)} [${'#'.repeat(done)}${' '.repeat(width - done)}] ${(share * 100).toFixed(0)}% ${mbs.toFixed(1)} MB/s ${p.rows.toLocaleString('en')} rows `,
    );
  };
}

function humanRun(run: IngestRun): string {
  const lines: string[] = [];
  if (run.status === 'unreadable') lines.push(`${run.file}: NOT READ: ${run.reason}`);
  else {
    const per = Object.entries(run.accepted)
      .map(([k, n]) => `${k} ${n.toLocaleString('en')}`)
      .join(', ');
    const u = run.unknownCustomers;
    const unknown = u
      ? `; ${u.customers.toLocaleString('en')} ${u.customers === 1 ? 'customer' : 'customers'} not on file (${u.rows.toLocaleString('en')} ${u.rows === 1 ? 'row' : 'rows'} ${u.action})`
      : '';
    lines.push(
      `${run.file}: ${run.acceptedTotal.toLocaleString('en')} accepted${per ? ` (${per})` : ''}, ${run.rejected.toLocaleString('en')} rejected; ${run.customersChanged} customers updated${unknown}`,
    );
  }
  if (run.rejectsFile) lines.push(`  rejects report: ${run.rejectsFile}`);
  if (run.warningsFile) lines.push(`  warnings report: ${run.warningsFile}`);
  for (const w of run.warnings) lines.push(`  note: ${w}`);
  return lines.join('\n');
}

/** `sentinel profiles`: each shipped profile with the kinds it reads. */
function profilesList(catalog: ProfileCatalog): string {
  const rows = catalog.names().map((n) => {
    const p = catalog.get(n) as Profile;
    const kinds = isAnyKind(p)
      ? 'any kind, canonical columns (--kind, or the folder profile/<name>/<kind>/)'
      : [...new Set(p.outputs.map((o) => o.kind))].join(', ');
    return [n, kinds];
  });
  return table(['profile', 'reads'], rows, new Set());
}

async function cmdIngest(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      kind: { type: 'string' },
      profile: { type: 'string' },
      reports: { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length === 0) throw new UsageError('ingest needs at least one FILE');
  if (values.kind && !isKind(values.kind))
    throw new UsageError(`unknown kind "${values.kind}"; expected one of ${KINDS.join(', ')}`);
  const kind = values.kind as Kind | undefined;
  const chosen = values.profile ? await resolveProfile(values.profile, new ProfileCatalog()) : undefined;
  if (chosen && kind && !isAnyKind(chosen))
    throw new UsageError(`profile ${chosen.name} names its own kinds: give --kind or --profile, not both`);
  const plan = positionals.map((file) => {
    const folder = basename(dirname(resolve(file)));
    const k = kind ?? (isKind(folder) ? folder : undefined);
    const profile = chosen ? profileForKind(chosen, k) : k && canonicalProfile(k);
    if (profile) return { file, profile };
    throw new UsageError(
      chosen
        ? `profile ${chosen.name} reads the canonical columns of any kind: pass --kind (${KINDS.join(', ')}) for ${file}`
        : `cannot tell what ${file} holds: pass --kind (${KINDS.join(', ')}) or --profile`,
    );
  });
  let exit = 0;
  let current: { file: string; rows: number } | undefined;
  const owner = localRunOwner();
  try {
    await withStore(values['data-dir'], async (env) => {
      for (const { file, profile } of plan) {
        let size: number;
        try {
          size = (await stat(file)).size;
          if ((await stat(file)).isDirectory())
            throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
        } catch (e) {
          exit = 1;
          const reason = `cannot read ${file}: ${fileProblem(e)}`;
          if (values.json)
            console.log(JSON.stringify({ file, kind: profile.outputs[0]?.kind, error: reason }));
          else console.error(reason);
          continue;
        }
        const bar = values.json ? undefined : progressBar(file, size);
        current = { file, rows: 0 };
        const progress = current;
        const onProgress = (p: { bytes: number; rows: number }) => {
          progress.rows = p.rows;
          bar?.(p);
        };
        const run = await ingest(
          {
            store: env.store,
            notifier: new OutboxNotifier(env.dataDir),
            clock: { now: () => new Date() },
            timeZone: timeZone(),
            owner,
            orders: localOrderBook(env),
          },
          {
            source: createReadStream(file, { highWaterMark: 256 * 1024 }),
            sizeBytes: size,
            fileName: file,
            objectRef: `file://${resolve(file)}`,
            profile,
            rejects: new FileReportSink(
              await reportPathFor(rejectsNameFor(file), env.dataDir, values.reports),
            ),
            warningsReport: yieldsReceivables(profile)
              ? new FileReportSink(await reportPathFor(warningsNameFor(file), env.dataDir, values.reports))
              : undefined,
            onProgress,
          },
        );
        current = undefined;
        if (bar) process.stderr.write('\n');
        if (run.status === 'unreadable') exit = 1;
        if (values.json)
          console.log(
            JSON.stringify({
              file,
              kind: run.kinds.join('+'),
              accepted: run.acceptedTotal,
              rejected: run.rejected,
              rejectsFile: run.rejectsFile,
              status: run.status,
              reason: run.reason,
              runId: run.runId,
              acceptedByKind: run.accepted,
              warningsFile: run.warningsFile,
              unknownCustomers: run.unknownCustomers,
              warnings: run.warnings,
            }),
          );
        else console.log(humanRun(run));
      }
      // The orders it reserved or released were logged: on the trail before the command exits.
      await chainLocalChecks(env);
    });
  } catch (e) {
    if (e instanceof UsageError || e instanceof CliFailure) throw e;
    // The store failed past its retries (or could not be opened): one sentence, never a stack trace.
    const cause = e instanceof Error ? e.message : String(e);
    if (current && !values.json) process.stderr.write('\n');
    throw new CliFailure(
      current
        ? `the ingest of ${current.file} stopped after ${current.rows.toLocaleString('en-US')} rows read: ${cause}. What was stored stays; run the same command again to finish it (rows already stored are written again, not twice)`
        : `cannot open the store: ${cause}`,
    );
  }
  return exit;
}

export const noCustomer = (id: string) => `there is no customer ${id} on file (see \`sentinel customers\`)`;

function jsonLine(l: CustomerLine) {
  return {
    customerId: l.customerId,
    currency: l.currency,
    openAmount: l.openAmount,
    overdueAmount: l.overdueAmount,
    aging: l.aging,
    openInvoices: l.openInvoices,
    maxDaysPastDue: l.maxDaysPastDue,
    settledInvoices: l.settledInvoices,
    avgDaysLate: l.avgDaysLate,
  };
}

async function cmdCustomers(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'as-of': { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length > 0)
    throw new UsageError(`customers takes no arguments (got ${positionals.join(' ')})`);
  const asOf = asOfOption(values['as-of']);
  return withStore(values['data-dir'], async (env) => {
    const { lines } = await new ReceivablesQueries(env.store).customers(asOf);
    if (values.json) {
      console.log(JSON.stringify(lines.map(jsonLine), null, 2));
      return 0;
    }
    console.log(`Receivables as of ${asOf} (${lines.length} customers)\n`);
    console.log(
      table(
        [
          'customer',
          'ccy',
          'open',
          'overdue',
          'not due',
          '1-30',
          '31-60',
          '61-90',
          '91-180',
          '>180',
          'inv',
          'maxDPD',
          'avgLate',
        ],
        lines.map((l) => [
          l.customerId,
          l.currency,
          l.openAmount,
          l.overdueAmount,
          l.aging.notDue,
          l.aging.d1_30,
          l.aging.d31_60,
          l.aging.d61_90,
          l.aging.d91_180,
          l.aging.over180,
          String(l.openInvoices),
          String(l.maxDaysPastDue),
          l.avgDaysLate === null ? '-' : l.avgDaysLate.toFixed(1),
        ]),
        new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
      ),
    );
    return 0;
  });
}

async function cmdCustomer(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'as-of': { type: 'string' },
      json: { type: 'boolean', default: false },
      explain: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length !== 1) throw new UsageError('customer takes exactly one customer ID');
  const id = positionals[0] as string;
  const asOf = asOfOption(values['as-of']);
  if (values.explain)
    return withStore(values['data-dir'], (env) => explainCustomer(env, id, asOf, values.json));
  return withStore(values['data-dir'], async (env) => {
    const file = await new ReceivablesQueries(env.store).customer(id, asOf);
    if (!file) throw new CliFailure(noCustomer(id));
    const predictions = await customerPredictions(env.store, id, asOf);
    const { line, statement } = file;
    const open = statement.invoices.filter((i) => i.open > 0);
    if (values.json) {
      console.log(
        JSON.stringify(
          {
            ...jsonLine(line),
            name: line.name,
            asOf,
            unappliedCash: line.unappliedCash,
            creditLimit: line.creditLimit,
            // Always both, so a script reads them alike: equal when nothing is under dispute.
            disputedAmount: formatMinor(statement.summary.disputedAmount, line.currency),
            dso: line.dso,
            undisputedDso: file.undisputedDso,
            openItems: open.map((i) => ({
              invoiceId: i.invoiceId,
              issueDate: i.issueDate,
              dueDate: i.dueDate,
              amount: formatMinor(i.amount, i.currency),
              currency: i.currency,
              openAmount: formatMinor(i.open, i.currency),
              daysPastDue: i.daysPastDue,
              bucket: i.bucket,
              disputed: i.disputed,
              // What of it is disputed: all that is open, or the part a dispute on a line names.
              ...(i.disputed
                ? {
                    disputedAmount: formatMinor(disputedOpen(i), i.currency),
                    ...(i.disputeLine ? { disputeLine: i.disputeLine } : {}),
                  }
                : {}),
            })),
            notes: statement.notes,
            ...(predictions ? { predictions: predictionsJson(predictions, formatMinor) } : {}),
          },
          null,
          2,
        ),
      );
      return 0;
    }
    // The line's amounts are plain decimals in its currency: a sentence reads them as money.
    const money = (decimal: string) => {
      const minor = parseMinorUnits(decimal, minorDigits(line.currency) ?? 2, CANONICAL_NUMBER_STYLE);
      return minor.ok ? formatMoney(minor.value, line.currency) : `${decimal} ${line.currency}`;
    };
    console.log(`${id}${line.name ? ` ${line.name}` : ''}: receivables as of ${asOf} in ${line.currency}`);
    console.log(
      `open ${money(line.openAmount)}, overdue ${money(line.overdueAmount)}, unapplied cash ${money(line.unappliedCash)}` +
        `${line.creditLimit ? `, credit limit ${money(line.creditLimit)}` : ''}; ${line.settledInvoices} invoices settled, avg ${line.avgDaysLate ?? '-'} days late`,
    );
    // Undisputed DSO beside DSO while anything is under dispute (otherwise it is DSO itself).
    const disputed = statement.summary.disputedAmount;
    console.log(
      line.dso === null
        ? 'DSO (90 days): no credit sales in the last 90 days\n'
        : `DSO (90 days) ${line.dso.toFixed(1)}` +
            (disputed > 0 && file.undisputedDso !== null
              ? `, undisputed ${file.undisputedDso.toFixed(1)} (the ${formatMoney(disputed, line.currency)} disputed left out)`
              : '') +
            '\n',
    );
    console.log(
      table(
        ['invoice', 'issued', 'due', 'amount', 'open', 'DPD', 'bucket', 'disputed'],
        open.map((i) => [
          i.invoiceId,
          i.issueDate,
          i.dueDate,
          formatMinor(i.amount, i.currency),
          formatMinor(i.open, i.currency),
          String(i.daysPastDue ?? ''),
          i.bucket ?? '',
          // Disputed in part: the part (at most what is open), else all of it.
          !i.disputed ? '' : disputedOpen(i) < i.open ? formatMinor(disputedOpen(i), i.currency) : 'yes',
        ]),
        new Set([3, 4, 5]),
      ),
    );
    for (const n of statement.notes)
      console.log(`note: payment ${n.paymentId} names invoice ${n.invoiceId}: ${n.code}`);
    if (predictions) console.log(`\n${predictionsText(predictions)}`);
    return 0;
  });
}

async function cmdRuns(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  const limit = limitOption(values.limit, values.json);
  return withStore(values['data-dir'], async (env) => {
    const q = new ReceivablesQueries(env.store);
    const page = await pageOrAll(
      limit,
      (size) => q.runsPage({ size }),
      () => q.runs(),
    );
    if (values.json) {
      console.log(jsonText(page.items));
      return 0;
    }
    console.log(
      table(
        ['started', 'run', 'file', 'status', 'accepted', 'rejected'],
        page.items.map((r) => [
          r.startedAt,
          r.runId,
          r.file,
          r.status,
          String(r.acceptedTotal),
          String(r.rejected),
        ]),
        new Set([4, 5]),
      ),
    );
    console.log(`\n${shownText(page, plural('ingest run'), 'newest first')}`);
    return 0;
  });
}

async function cmdStart(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'in-memory': { type: 'boolean', default: false },
      port: { type: 'string', default: '8787' },
      inbox: { type: 'string', default: 'inbox' },
      'no-demo': { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`start takes no arguments (got ${positionals.join(' ')})`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${values.port} is not a port`);
  await portIsFree(port);
  const env = await openLocal({ dataDir: values['data-dir'], inMemory: values['in-memory'] }, true);
  if (env.shared) {
    console.error(`credit-sentinel is already running on this data dir (${env.dataDir}); stop it first`);
    await env.close();
    return 1;
  }
  const inboxRoot = resolve(values.inbox);
  await InboxWatcher.prepare(inboxRoot);
  const inbox = new InboxObjectStore(inboxRoot);
  // Alerts: after every ingest (the "customers changed" message), at start, and daily at 05:00;
  // to the outbox, and to Slack when a webhook is set (the URL is a credential: never printed).
  const slackWebhookUrl = process.env.SENTINEL_SLACK_WEBHOOK_URL?.trim() || undefined;
  const slackMode = process.env.SENTINEL_SLACK_ALERTS?.trim() || 'each';
  if (!(SLACK_MODES as readonly string[]).includes(slackMode))
    throw new UsageError(`SENTINEL_SLACK_ALERTS=${slackMode}: use ${SLACK_MODES.join(', ')}`);
  let consoleUrl: string | undefined;
  let reviewAfterDaily: ((asOf: string) => Promise<void>) | undefined;
  // One re-check of the hold queue at a time; a run finishing meanwhile asks for one more.
  let recheckRunning: Promise<void> | undefined;
  let recheckAgain = false;
  const recheckAfterRun = async (): Promise<void> => {
    if (recheckRunning) {
      recheckAgain = true;
      return;
    }
    recheckRunning = (async () => {
      do {
        recheckAgain = false;
        try {
          const r = await recheckHeld(localChecks(env), await loadPolicy(env.store), {
            today: today(),
            now: new Date().toISOString(),
          });
          if (r.rechecked > 0) console.log(`credit checks: ${recheckText(r).split('\n')[0]}`);
        } catch (e) {
          console.error(`credit checks: re-checking the held orders failed: ${(e as Error).message}`);
        }
      } while (recheckAgain);
    })().finally(() => {
      recheckRunning = undefined;
    });
    await recheckRunning;
  };
  const evaluator = new LocalEvaluator({
    onRun: (run, triggers) => {
      if (triggers.includes('daily')) void reviewAfterDaily?.(run.asOf);
      // Held orders checked again: an upload (a payment), a raise or a new rating may clear a hold.
      void recheckAfterRun();
    },
    store: env.store,
    dataDir: env.dataDir,
    timeZone: timeZone(),
    slack: slackWebhookUrl ? { webhookUrl: slackWebhookUrl, mode: slackMode as SlackMode } : undefined,
    consoleUrl: () => consoleUrl,
    // The console serves the portal; at start the reminders may go out before it listens (with
    // --port 0 its port is not known yet: those reminders carry no link rather than a wrong one).
    portalBaseUrl: () => consoleUrl ?? (port === 0 ? undefined : `http://127.0.0.1:${port}`),
    audit: localAuditTrail(env.store, env.dataDir),
  });
  const changes = new OutboxNotifier(env.dataDir, [evaluator.listener]);
  // A policy dropped into inbox/policy/ goes to the approval chain, which starts below.
  let policyChanges: (c: PolicyChanges) => void = () => {};
  const chainReady = new Promise<PolicyChanges>((ok) => {
    policyChanges = ok;
  });
  const handler = localIngestHandler(env, inbox, changes, timeZone(), undefined, {
    propose: async (p) => (await chainReady).propose(p),
  });
  const queries = new ReceivablesQueries(env.store);
  const watcher = new InboxWatcher(
    inbox,
    handler,
    (file, e) => console.error(`inbox: ${file} failed: ${(e as Error).message}`),
    undefined,
    inboxLog(inboxRoot, queries),
  );
  if (!values['no-demo'] && (await queries.runs(1)).length === 0) {
    for (const [key, text] of Object.entries(demoFiles(today()))) await writeFile(join(inboxRoot, key), text);
    console.log('empty store: dropped a demo dataset into the inbox');
    await watcher.scan(false);
  }
  const approvalPolicy = await loadApprovalPolicy();
  const transfers = await localTransfers({
    client: env.store.client,
    tableName: LOCAL_TABLE,
    creditStore: env.store,
    creditPolicy: () => loadPolicy(env.store),
    approvalPolicy: async () => approvalPolicy,
    dataDir: env.dataDir,
    clock: { now: () => new Date() },
    today,
    baseUrl: () => consoleUrl ?? `http://127.0.0.1:${port}`,
    slackWebhookUrl,
    slackSigningSecret: process.env.SENTINEL_SLACK_SIGNING_SECRET?.trim() || undefined,
    changes,
    policies: env.store,
  });
  policyChanges({ propose: (p) => transfers.app.requestPolicyChange(p) });
  // Periodic reviews: daily after the daily evaluation, and on demand (console, `sentinel review run`).
  const reviews = localReviewsRuntime({
    client: env.store.client,
    tableName: LOCAL_TABLE,
    dataDir: env.dataDir,
    policy: () => loadPolicy(env.store),
    approvals: limitApprovals(transfers.app),
    timeZone: timeZone(),
    metrics: localMetrics(env.dataDir, 'reviews', { eager: true }),
    changes,
  });
  reviewAfterDaily = (asOf) =>
    reviews
      .run({ asOf, trigger: 'schedule' })
      .then(({ run }) =>
        console.log(`reviews: ${describeRun(run).split('\n')[1]?.trim()} (as of ${run.asOf})`),
      )
      .catch((e: unknown) => console.error(`reviews: the daily review failed: ${(e as Error).message}`));
  // Credit checks log their decisions in the customers' partitions; this chains them to the trail.
  const chainer = startCheckChainer(env.store, transfers.store, {
    onError: (e) => console.error(`credit checks: chaining the log to the audit trail failed: ${e.message}`),
  });
  const web = await startConsole({
    queries,
    today,
    port,
    credit: {
      store: env.store,
      policy: () => loadPolicy(env.store),
      // Promises go on the same audit trail as the transfers (its key and anchors).
      collections: { store: env.store, audit: transfers.store },
      checks: localChecks(env),
      // A held order's release goes to the same approval chain as the transfers.
      checkReleases: {
        ...localChecks(env),
        policy: () => loadPolicy(env.store),
        approvalPolicy: async () => approvalPolicy,
        approvals: transfers.app,
        today,
        clock: { now: () => new Date() },
      },
    },
    transfers: consoleTransfers(transfers, env.dataDir),
    // What a reminder's link opens: the same handler as the portal Lambda, on the same audit trail.
    portal: portalHttp({
      store: env.store,
      audit: transfers.store,
      policy: () => loadPolicy(env.store),
      keys: () => localLinkKeys(env.dataDir),
      clock: { now: () => new Date() },
      today,
    }),
    reviews: reviews.console,
    applications: localApplications(env, transfers, async () => approvalPolicy),
    ops: () =>
      opsSummary({
        dataDir: env.dataDir,
        timeZone: timeZone(),
        alerts: env.store,
        approvals: transfers.store,
        runs: queries,
        inboxFailing: () => watcher.failing(),
      }),
  }).catch(async (e: unknown) => {
    // Taken between the check and now: the same sentence, and nothing left running.
    await chainer.stop();
    await watcher.stop();
    await transfers.workflow.stop();
    await transfers.idle();
    await env.close();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new CliFailure(
        `port ${port} is busy: another program (or another \`sentinel start\`) listens on it; pick another with --port N (--port 0 takes any free port)`,
      );
    throw e;
  });
  consoleUrl = web.url;
  // What a stopped (or killed) process left half-way, carried on from the store once the links'
  // base URL answers: approval workflows first (a review's run may ask one), then review runs.
  const carried = await transfers.resume();
  for (const c of carried) console.log(`transfers: carried on ${c.transferId} (${c.why})`);
  const resumedRuns = await reviews.resume(({ run }) =>
    console.log(`reviews: carried on ${run.runId}: ${describeRun(run).split('\n')[1]?.trim()}`),
  );
  for (const id of resumedRuns) console.log(`reviews: carrying on run ${id}, stopped half-way`);
  const unpublish = await publishConsole(env.dataDir, web.url);
  console.log(
    [
      '',
      `credit-sentinel is running`,
      `  console   ${web.url}`,
      `  inbox     ${inboxRoot}/<kind>/  (${KINDS.join(', ')}, profile/<name>)`,
      `  alerts    ${evaluator.alertsFile}${slackWebhookUrl ? ' and Slack' : ''}  (at start, after every upload, daily at 05:00 ${timeZone()})`,
      `  transfers ${web.url}/transfers  (approval emails: ${join(env.dataDir, 'outbox', 'mail')}, ${web.url}/outbox)`,
      `  reviews   ${web.url}/reviews  (daily after the 05:00 evaluation, or \`sentinel review run\`; reports in ${join(env.dataDir, 'outbox', 'reviews')})`,
      `  collect   ${web.url}/collections  (after each evaluation of every customer, or \`sentinel collections run\`; reminders in ${join(env.dataDir, 'outbox', 'mail')}, tasks in ${join(env.dataDir, 'outbox', 'collections')})`,
      `  metrics   ${web.url}/ops  (${join(env.dataDir, 'metrics.jsonl')})`,
      `  data      ${values['in-memory'] ? 'in memory (gone when stopped)' : env.dataDir}`,
      `  DynamoDB  ${env.endpoint} (dynalite; the CLI in another terminal uses it too)`,
      'Ctrl-C stops it.',
      '',
    ].join('\n'),
  );
  // After the banner, so its one line on the first evaluation follows it.
  void evaluator.start();
  watcher.start();
  await new Promise<void>((done) => {
    const stop = () => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.log('stopping...');
  await watcher.stop();
  await evaluator.stop();
  await unpublish();
  // Work in flight finishes before the store closes: a review run, then the transfer engine (its
  // running steps; executions still waiting for approvers stop, and the next start carries them on).
  await reviews.idle();
  await transfers.workflow.stop();
  await transfers.idle();
  await web.close();
  await chainer.stop();
  await env.close();
  return 0;
}

/** `start --port N` refused in one sentence before anything starts, when another program holds N. */
async function portIsFree(port: number): Promise<void> {
  if (port === 0) return;
  const problem = await new Promise<string | undefined>((done) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) =>
      done(
        e.code === 'EADDRINUSE'
          ? `port ${port} is busy: another program (or another \`sentinel start\`) listens on it`
          : e.code === 'EACCES'
            ? `port ${port} is not open to this user (ports below 1024 need root)`
            : `cannot listen on port ${port}: ${e.message}`,
      ),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(undefined)));
  });
  if (problem) throw new CliFailure(`${problem}; pick another with --port N (--port 0 takes any free port)`);
}

/**
 * The `start` terminal's account of the inbox: each file when it is picked up and when its run is
 * stored (counts and where the rejects report went), and a warning for a file dropped in the root.
 */
function inboxLog(root: string, queries: ReceivablesQueries): InboxEvents {
  const pickedAt = new Map<string, string>();
  return {
    picked: (key, version) => {
      pickedAt.set(`${key}#${version}`, new Date().toISOString());
      console.log(`inbox: ${key} picked up`);
    },
    finished: async (key, version) => {
      const ref = `s3://${INBOX_BUCKET}/${key}?versionId=${version}`;
      const run = (await queries.runs(50)).find((r) => r.objectRef === ref);
      const since = pickedAt.get(`${key}#${version}`) ?? '';
      pickedAt.delete(`${key}#${version}`);
      if (!run) console.log(`inbox: ${key} done`);
      else if (run.startedAt < since)
        console.log(`inbox: ${key} was ingested before (run ${run.runId} at ${run.startedAt}); nothing new`);
      else if (run.status === 'unreadable') console.log(`inbox: ${key} NOT READ: ${run.reason}`);
      else
        console.log(
          `inbox: ${key} done: ${grouped(run.acceptedTotal)} accepted, ${grouped(run.rejected)} rejected` +
            (run.rejected > 0 && run.rejectsFile ? `; rejects in ${run.rejectsFile}` : ''),
        );
    },
    stray: (key) =>
      console.error(
        `inbox: ${join(root, key)} is not read: a file goes under ${root}/<kind>/ (${KINDS.join(', ')}), profile/<name>/ or policy/`,
      ),
  };
}

/** Runs the CLI; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  // `--debug` (or SENTINEL_DEBUG=1) shows the stack of an unexpected error; without it, one sentence.
  const debug = args.includes('--debug') || process.env.SENTINEL_DEBUG === '1';
  const argv = args.filter((a) => a !== '--debug');
  const [command, ...rest] = argv;
  const topic = topicOf(argv);
  // `CMD --help` anywhere on the line (before a `--`): that command's help, nothing run.
  const end = argv.indexOf('--');
  const asksHelp = (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
  try {
    if (command === undefined) {
      console.error(overview());
      return 2;
    }
    if (command === 'help' || command === '--help' || command === '-h') return help(rest);
    if (asksHelp) {
      if (!topic) throw new UsageError(`unknown command "${command}"`);
      console.log(commandHelp(topic));
      return 0;
    }
    switch (command) {
      case 'start':
        return await cmdStart(rest);
      case 'ingest':
        return await cmdIngest(rest);
      case 'customers':
        return await cmdCustomers(rest);
      case 'customer':
        return await cmdCustomer(rest);
      case 'runs':
        return await cmdRuns(rest);
      case 'forecast':
        return await cmdForecast(rest);
      case 'profiles':
        parseArgs({ args: rest, options: { 'data-dir': { type: 'string' } } });
        console.log(profilesList(new ProfileCatalog()));
        return 0;
      case 'evaluate':
        return await cmdEvaluate(rest);
      case 'alerts':
        return await cmdAlerts(rest);
      case 'policy':
        return await cmdPolicy(rest);
      case 'backtest':
        return await cmdBacktest(rest);
      case 'collections':
        return await cmdCollections(rest);
      case 'credit-check':
        return await cmdCreditCheck(rest);
      case 'application':
        return await cmdApplication(rest);
      case 'transfer':
        return await cmdTransfer(rest);
      case 'approvals':
        return await cmdApprovals(rest);
      case 'audit':
        return await cmdAudit(rest);
      case 'metrics':
        return await cmdMetrics(rest);
      case 'review':
        return await cmdReview(rest);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    const usage = usageMessage(e);
    if (usage !== undefined) {
      // One line, and where the right usage is; a file's findings (a profile, a policy) keep their lines.
      const see = `see \`sentinel help${topic ? ` ${topic}` : ''}\``;
      console.error(usage.includes('\n') ? `sentinel: ${usage}` : `sentinel: ${usage}; ${see}`);
      return 2;
    }
    if (e instanceof CliFailure) {
      console.error(`sentinel: ${e.message}`);
      return 1;
    }
    if (debug) console.error(e);
    else console.error(`sentinel: ${oneSentence(e)} (run again with --debug for details)`);
    return 1;
  }
}

/** `sentinel help [COMMAND [SUB]]`. */
function help(words: string[]): number {
  const end = words.findIndex((w) => w.startsWith('-'));
  const asked = (end < 0 ? words : words.slice(0, end)).slice(0, 2).join(' ');
  if (!asked) {
    console.log(words.includes('--help') || words.includes('-h') ? commandHelp('help') : overview());
    return 0;
  }
  if (!isTopic(asked)) {
    const first = words[0] as string;
    console.error(
      isTopic(first)
        ? `sentinel: "${asked}" is not a command; see \`sentinel help ${first}\``
        : `sentinel: unknown command "${asked}"; see \`sentinel help\``,
    );
    return 2;
  }
  console.log(commandHelp(asked));
  return 0;
}

/** The one line a usage error says, or undefined when `e` is no usage error. */
function usageMessage(e: unknown): string | undefined {
  if (e instanceof UsageError) return e.message;
  const code = (e as { code?: string }).code;
  const m = (e as Error).message ?? '';
  const quoted = /'([^']+)'/.exec(m)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${quoted}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const opt = quoted.replace(/ <value>$/, '').replace(/^-\w, /, '');
      if (/argument missing|ambiguous/.test(m)) return `${opt} needs a value`;
      if (/does not take an argument/.test(m)) return `${opt} takes no value`;
      return m.split('. ')[0];
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted}"`;
    default:
      return undefined;
  }
}

/** An error as one line a user can read: its message, its cause's, never a stack. */
function oneSentence(e: unknown): string {
  const m = e instanceof Error ? e.message || e.name : String(e);
  const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : '';
  return clip(`${m}${cause}`.replace(/\s+/g, ' ').trim(), 500);
}
