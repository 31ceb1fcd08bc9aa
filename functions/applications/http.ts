import { moneyAsDecimals } from '../core/money-json.ts';
import { type ApplicationDeps, type FileOutcome, fileApplication } from './app.ts';
import type { CreditApplication } from './application.ts';

/**
 * Credit applications over HTTP as JSON (README "Credit applications"), framework-free so the same
 * code answers in the local console (`/api/applications`) and in the transfers API on AWS
 * (`/applications`, IAM auth): `POST` files one (201 with the application; 400 or 409 with
 * `issues`), `GET` lists each customer's latest, `GET <id>` shows one (404 when there is none).
 * Amounts as decimal strings beside their currency (README "Money in the API").
 */
export interface ApplicationsApi {
  readonly file: (input: unknown) => Promise<FileOutcome>;
  readonly list: () => Promise<CreditApplication[]>;
  readonly show: (applicationId: string) => Promise<CreditApplication | undefined>;
}

/** Filing, the list and one application, on the deps `sentinel application file` and `npm start` use. */
export function applicationsApi(deps: ApplicationDeps): ApplicationsApi {
  return {
    file: (input) => fileApplication(deps, input),
    list: () => deps.store.list(),
    show: (id) => deps.store.byId(id),
  };
}

/** A JSON answer: the status and the value to send as JSON. */
export interface JsonAnswer {
  readonly status: number;
  readonly value: unknown;
}

/**
 * The answer to `method` on the applications (`id` undefined) or on one (`id`), the body the
 * request's text; undefined for a method the address does not take (the caller's 404 or 405).
 */
export async function applicationsJson(
  apps: ApplicationsApi,
  method: string,
  id: string | undefined,
  body: string,
): Promise<JsonAnswer | undefined> {
  const m = method.toUpperCase();
  if (id === undefined && m === 'GET')
    return { status: 200, value: { applications: (await apps.list()).map((a) => moneyAsDecimals(a)) } };
  if (id !== undefined && m === 'GET') {
    const a = await apps.show(id);
    return a
      ? { status: 200, value: { application: moneyAsDecimals(a) } }
      : { status: 404, value: { error: `There is no credit application "${id}".` } };
  }
  if (id === undefined && m === 'POST') {
    let input: unknown;
    try {
      input = JSON.parse(body);
    } catch {
      return {
        status: 400,
        value: { error: 'The body is not JSON: send the application as a JSON object.' },
      };
    }
    const r = await apps.file(input);
    return r.ok
      ? { status: 201, value: { application: moneyAsDecimals(r.application) } }
      : { status: r.status, value: { issues: r.issues } };
  }
  return undefined;
}
