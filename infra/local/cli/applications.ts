import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoApplicationStore } from '../../../functions/adapters/dynamodb-applications.ts';
import { type CreditApplication, pendingWords } from '../../../functions/applications/application.ts';
import { applicationsApi } from '../../../functions/applications/http.ts';
import { formatMoney } from '../../../functions/core/money.ts';
import { moneyAsDecimals } from '../../../functions/core/money-json.ts';
import type { ApprovalPolicy } from '../../../functions/transfers/approval-policy.ts';
import type { ConsoleApplications } from '../console/applications.ts';
import type { LocalEnv } from '../runtime/index.ts';
import type { LocalTransfers } from '../runtime/transfers.ts';
import {
  CliFailure,
  fileProblem,
  jsonText,
  splitSub,
  table,
  today,
  UsageError,
  withStore,
} from './common.ts';
import { loadPolicy } from './credit.ts';
import { consoleApi } from './transfers.ts';

/** The console's applications on this machine: the store, the credit policy in force, the approval chain. */
export function localApplications(
  env: Pick<LocalEnv, 'store'>,
  transfers: Pick<LocalTransfers, 'app' | 'store'>,
  approvalPolicy: () => Promise<ApprovalPolicy>,
): ConsoleApplications {
  return applicationsApi({
    store: new DynamoApplicationStore(env.store.client, env.store.tableName),
    audit: transfers.store,
    policy: () => loadPolicy(env.store),
    approvalPolicy,
    approvals: transfers.app,
    clock: { now: () => new Date() },
    today,
  });
}

/** An application in a few lines: who, what was asked, the rating, the limit, what is missing. */
export function describeApplication(a: CreditApplication): string {
  const m = (v: number) => formatMoney(v, a.currency);
  const r = a.rating;
  const lines = [
    `${a.applicationId}  ${a.customerId} ${a.name} (${a.country}, reg. ${a.registrationNo})  ${a.state}`,
    a.state === 'pending'
      ? `  ${pendingWords(a)}`
      : `  asked ${m(a.requestedLimit)}; ${a.outcome ?? a.state}`,
    `  filed ${a.filedAt} by ${a.filedBy}${a.transferId ? `; approval ${a.transferId}` : ''}`,
    `  scorecard ${r.score} of 100: rating ${r.rating} (${r.riskClass} risk), policy ${r.policyId}`,
    `  recommended initial limit ${m(r.initialLimit)}${a.approvedLimit !== undefined ? `; limit set ${m(a.approvedLimit)}` : ''}`,
    ...r.basis.map((b) => `    ${b}`),
    '  missing:',
    ...r.missing.map((x) => `    - ${x}`),
    ...(r.flags.length > 0 ? ['  for the approvers:', ...r.flags.map((x) => `    - ${x}`)] : []),
  ];
  return lines.join('\n');
}

/**
 * `sentinel application file FILE.json | list | show ID`. Filing goes to the running product (its
 * workflow engine runs the approval chain); list and show read the store.
 */
export async function cmdApplication(args: string[]): Promise<number> {
  const [sub, rest] = splitSub(args);
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, 'data-dir': { type: 'string' } },
  });
  const dataDir = resolve(values['data-dir'] ?? '.sentinel');
  if (sub === 'file') {
    if (positionals.length !== 1)
      throw new UsageError('application file takes one JSON file: sentinel application file nova.json');
    let input: unknown;
    try {
      input = JSON.parse(await readFile(positionals[0] as string, 'utf8'));
    } catch (e) {
      throw new CliFailure(`${positionals[0]}: ${fileProblem(e)}`);
    }
    const r = await consoleApi(dataDir, 'POST', '/api/applications', input);
    if (r.status !== 201) {
      const issues = (r.json.issues ?? []) as { field: string; message: string }[];
      if (values.json) console.log(jsonText(r.json));
      throw new CliFailure(
        issues.length > 0
          ? `application not filed, nothing stored: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`
          : `application not filed: ${String(r.json.message ?? r.status)}`,
      );
    }
    const a = (r.json as { application: Record<string, unknown> }).application;
    if (values.json) console.log(jsonText(a));
    else {
      const id = String(a.applicationId);
      const shown = await withStore(dataDir, (env) =>
        new DynamoApplicationStore(env.store.client, env.store.tableName).byId(id),
      ).catch(() => undefined);
      console.log(shown ? describeApplication(shown) : `filed ${id}`);
    }
    return 0;
  }
  if (sub === 'list') {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const list = await withStore(dataDir, (env) =>
      new DynamoApplicationStore(env.store.client, env.store.tableName).list(),
    );
    if (values.json) {
      console.log(jsonText({ applications: list.map((a) => moneyAsDecimals(a)) }));
      return 0;
    }
    if (list.length === 0) {
      console.log('no credit application filed');
      return 0;
    }
    console.log(
      table(
        ['APPLICATION', 'CUSTOMER', 'FILED', 'STATE', 'ASKED', 'RATING', 'INITIAL LIMIT'],
        list.map((a) => [
          a.applicationId,
          `${a.customerId} ${a.name}`,
          a.filedOn,
          a.state,
          formatMoney(a.requestedLimit, a.currency),
          `${a.rating.rating} (${a.rating.score})`,
          formatMoney(a.rating.initialLimit, a.currency),
        ]),
        new Set([4, 6]),
      ),
    );
    console.log(`${list.length} application${list.length === 1 ? '' : 's'} (each customer's latest)`);
    return 0;
  }
  if (sub === 'show') {
    if (positionals.length !== 1)
      throw new UsageError('application show needs an application ID (APP-<customer>-<n>)');
    const id = positionals[0] as string;
    const a = await withStore(dataDir, (env) =>
      new DynamoApplicationStore(env.store.client, env.store.tableName).byId(id),
    );
    if (!a) throw new CliFailure(`there is no credit application "${id}"`);
    console.log(values.json ? jsonText(moneyAsDecimals(a)) : describeApplication(a));
    return 0;
  }
  throw new UsageError(
    sub === undefined ? 'application needs file, list or show' : `unknown application command "${sub}"`,
  );
}
