import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoApplicationStore } from '../../functions/adapters/dynamodb-applications.ts';
import { applicationsApi } from '../../functions/applications/http.ts';
import { policyInForce } from '../../functions/credit/policy.ts';
import { type HttpResponse, transferHttp } from '../../functions/transfers/http.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { type LocalTransfers, localTransfers } from '../../infra/local/runtime/transfers.ts';
import { DEFAULT_POLICY_DOCUMENT } from '../../policies/index.ts';
import { NOVA } from './applications-fixture.ts';
import { fakeContext, handlerEnv } from './lambda-handlers.ts';
import { approvalPolicyWith, endTransfers } from './transfers-console.ts';

/**
 * Credit applications through the transfers API (README "Credit applications"): the handler the
 * AWS `TransfersApi` function serves (functions/transfers/http.ts, `api` face) with the local
 * adapters (dynalite, the approval chain on the local engine), and the Lambda export itself
 * (functions/transfers/handler.ts#api, wired from the environment) on the same table.
 *
 * NOVA is the README's: 300,000.00 EUR asked, rated B (67), initial limit 240,000.00 EUR (10% of
 * its revenue of 2,400,000.00; credit-applications.test.ts has the scorecard by hand).
 */
const TODAY = '2026-11-24';
const clock = { now: () => new Date(`${TODAY}T09:00:00Z`) };
const policy = policyInForce(undefined, DEFAULT_POLICY_DOCUMENT);

/** The bad application: each field the README names as refused, and an unknown one. */
const BAD = {
  ...NOVA,
  customerId: 'BAD',
  country: 'Germany',
  registrationNo: '',
  requestedLimit: '-5',
  financials: [{ periodEnd: '2025-12-31', revenue: 'lots' }],
  filedBy: 'nobody',
  extra: 1,
};

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let http: (method: string, path: string, body?: unknown) => Promise<HttpResponse>;
const bodyOf = (r: HttpResponse) => JSON.parse(r.body) as Record<string, unknown>;

beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  dir = await mkdtemp(join(tmpdir(), 'applications-api-'));
  const approvalPolicy = approvalPolicyWith(() => {});
  transfers = await localTransfers({
    client: env.store.client,
    tableName: env.store.tableName,
    creditStore: env.store,
    creditPolicy: async () => policy,
    approvalPolicy: async () => approvalPolicy,
    dataDir: dir,
    clock,
    today: () => TODAY,
    baseUrl: () => 'http://approvals.test',
  });
  // The API face as handler.ts builds it, the applications on the local store and approval chain.
  const handler = transferHttp(transfers.app, {
    faces: ['api'],
    clock,
    applications: applicationsApi({
      store: new DynamoApplicationStore(env.store.client, env.store.tableName),
      audit: transfers.store,
      policy: async () => policy,
      approvalPolicy: async () => approvalPolicy,
      approvals: transfers.app,
      clock,
      today: () => TODAY,
    }),
  });
  http = (method, path, body) =>
    handler({
      method,
      path,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body),
    });
}, 60_000);

afterAll(async () => {
  await endTransfers(transfers);
  await env?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('credit applications on the transfers API', () => {
  it('POST /applications files one (201), GET /applications/ID reads it back, GET /applications lists it', async () => {
    const filed = await http('POST', '/applications', NOVA);
    expect(filed.status, filed.body).toBe(201);
    expect(filed.headers['content-type']).toBe('application/json; charset=utf-8');
    const a = bodyOf(filed).application as Record<string, unknown> & { rating: Record<string, unknown> };
    expect(a).toMatchObject({
      applicationId: 'APP-NOVA-1',
      customerId: 'NOVA',
      state: 'pending',
      requestedLimit: '300000.00',
      currency: 'EUR',
      filedBy: 'rita',
      filedOn: TODAY,
    });
    expect(a.rating).toMatchObject({ score: 67, rating: 'B', initialLimit: '240000.00' });
    // Its initial limit is asked of the approval chain: a credit application request of 240,000.00 EUR.
    const transferId = a.transferId as string;
    expect(transferId).toMatch(/^TR-/);
    const t = await http('GET', `/transfers/${transferId}`);
    expect(t.status).toBe(200);
    expect(bodyOf(t).transfer).toMatchObject({
      request: { type: 'credit_application', customerId: 'NOVA', amount: '240000.00', currency: 'EUR' },
    });

    const one = await http('GET', '/applications/APP-NOVA-1');
    expect(one.status).toBe(200);
    expect(bodyOf(one).application).toEqual(a);
    const list = await http('GET', '/applications');
    expect(list.status).toBe(200);
    const apps = bodyOf(list).applications as { applicationId: string; requestedLimit: string }[];
    expect(apps.map((x) => x.applicationId)).toEqual(['APP-NOVA-1']);
    expect(apps[0]?.requestedLimit).toBe('300000.00');

    // Filed again while it is pending: 409, nothing stored.
    const again = await http('POST', '/applications', NOVA);
    expect(again.status).toBe(409);
    expect(bodyOf(again).issues).toEqual([
      { field: 'customerId', message: expect.stringContaining('APP-NOVA-1 of NOVA is') },
    ]);
  }, 60_000);

  it('a bad application is 400 naming each bad field, and stores nothing', async () => {
    const r = await http('POST', '/applications', BAD);
    expect(r.status).toBe(400);
    const issues = bodyOf(r).issues as { field: string; message: string }[];
    expect(issues).toEqual([
      { field: 'country', message: 'is not an ISO 3166 country code (two letters)' },
      { field: 'registrationNo', message: 'is required' },
      { field: 'requestedLimit', message: 'must be greater than zero' },
      { field: 'financials.0.revenue', message: 'is not a number (EUR)' },
      {
        field: 'filedBy',
        message: expect.stringContaining('"nobody" is not a person of the approval policy'),
      },
      // The unknown field is the body's.
      { field: '(body)', message: 'Unrecognized key: "extra"' },
    ]);
    expect((await http('GET', '/applications/APP-BAD-1')).status).toBe(404);
    expect(bodyOf(await http('GET', '/applications/APP-BAD-1'))).toEqual({
      error: 'There is no credit application "APP-BAD-1".',
    });
    const list = bodyOf(await http('GET', '/applications')).applications as { customerId: string }[];
    expect(list.map((x) => x.customerId)).toEqual(['NOVA']);
    // Not JSON: 400; another method: 405 with what the address takes.
    const notJson = await http('POST', '/applications', '{nope');
    expect(notJson.status).toBe(400);
    expect(bodyOf(notJson).error).toContain('not JSON');
    const del = await http('DELETE', '/applications/APP-NOVA-1');
    expect(del.status).toBe(405);
    expect(del.headers.allow).toBe('GET');
  });

  it('the Lambda export (handler.ts#api, wired from the environment) serves them from the same table', async () => {
    Object.assign(process.env, handlerEnv(env.endpoint), { TABLE_NAME: env.store.tableName });
    const { api } = (await import('../../functions/transfers/handler.ts')) as unknown as {
      api: (e: unknown, c: unknown) => Promise<{ statusCode: number; body: string }>;
    };
    const call = (method: string, path: string, body?: unknown) =>
      api(
        {
          version: '2.0',
          rawPath: path,
          rawQueryString: '',
          headers: { host: 'example.lambda-url.us-east-1.on.aws', 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          isBase64Encoded: false,
          requestContext: { requestId: `req-${method}-${path}`, http: { method, path } },
        },
        fakeContext('transfers-api', `req-${method}-${path}`),
      );
    const one = await call('GET', '/applications/APP-NOVA-1');
    expect(one.statusCode, one.body).toBe(200);
    expect(JSON.parse(one.body).application).toMatchObject({
      applicationId: 'APP-NOVA-1',
      rating: { rating: 'B' },
    });
    const list = await call('GET', '/applications');
    expect(JSON.parse(list.body).applications.map((a: { applicationId: string }) => a.applicationId)).toEqual(
      ['APP-NOVA-1'],
    );
    const bad = await call('POST', '/applications', BAD);
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).issues.map((i: { field: string }) => i.field)).toContain('requestedLimit');
  }, 30_000);
});
