import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { armCrash, disarmCrashes } from '../../functions/core/crash.ts';
import type { StoredRecord } from '../../functions/ingest/ports.ts';
import type { RunningConsole } from '../../infra/local/console/index.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import type { LocalTransfers } from '../../infra/local/runtime/transfers.ts';
import { text } from './pages.ts';
import { startTransfersConsole, until } from './transfers-console.ts';

/**
 * A failed transfer on the console: its page says what failed and has a Retry button (the same
 * `TransferApp.retry` as the CLI and the API), which runs it again once; the transfers API's
 * `POST /transfers/ID/retry` answers the same refusals in JSON.
 */

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

let env: LocalEnv;
let dir: string;
let transfers: LocalTransfers;
let web: RunningConsole;
beforeAll(async () => {
  env = await openLocal({ inMemory: true });
  dir = await mkdtemp(join(tmpdir(), 'console-retry-'));
  await env.store.write([
    {
      kind: 'customers',
      row: { customerId: 'C9', name: 'Newcomer Ltd', currency: 'EUR' },
      from: { runId: 'seed', line: 2 },
    },
  ] as StoredRecord[]);
  ({ transfers, web } = await startTransfersConsole(env, dir));
});
afterAll(async () => {
  await web?.close();
  await transfers?.workflow.stop();
  await env?.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => disarmCrashes());

const post = (path: string, body: string, headers: Record<string, string> = FORM) =>
  fetch(`${web.url}${path}`, { method: 'POST', redirect: 'manual', headers, body });

async function failedTransfer(): Promise<string> {
  armCrash('transfers.step-gate');
  const r = await transfers.app.request({
    customerId: 'C9',
    type: 'refund',
    amount: '120.00',
    currency: 'EUR',
    beneficiaryName: 'Unknown Ltd',
    beneficiaryAccount: 'DE89 3704 0044 0532 0130 00',
    reason: 'console retry',
    requester: 'rita',
  });
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  const id = r.transfer.transferId;
  await until('failed', async () =>
    (await transfers.app.show(id))?.transfer.status === 'failed' ? true : undefined,
  );
  return id;
}

describe('a failed transfer on the console', () => {
  it('shows what failed with a Retry button that runs it again once', async () => {
    const id = await failedTransfer();
    const page = text(await (await fetch(`${web.url}/transfers/${id}`)).text());
    expect(page).toContain('SimulatedCrash in RiskGate');
    expect(page).toContain('simulated crash at transfers.step-gate');
    const html = await (await fetch(`${web.url}/transfers/${id}`)).text();
    expect(html).toContain(`action="/transfers/${id}/retry-form"`);
    expect(html).toContain(`action="/transfers/${id}/recall-form"`);

    const nobody = await post(`/transfers/${id}/retry-form`, new URLSearchParams({ by: '' }).toString());
    expect(nobody.status).toBe(400);
    const ok = await post(`/transfers/${id}/retry-form`, new URLSearchParams({ by: 'paula' }).toString());
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(`/transfers/${id}`);
    const again = await post(`/transfers/${id}/retry-form`, new URLSearchParams({ by: 'paula' }).toString());
    expect(again.status).toBe(409);
    expect(text(await again.text())).toContain(
      'The transfer is pending: only a failed transfer can be retried. Nothing was changed.',
    );
    const after = await transfers.app.show(id);
    expect(after?.transfer).toMatchObject({ status: 'pending', retries: 1, retriedBy: 'paula' });
    expect(await (await fetch(`${web.url}/transfers/${id}`)).text()).not.toContain('retry-form');
    await transfers.app.recall(id, 'rita');
  });

  it('the API: POST /transfers/ID/retry, refused with one sentence unless failed', async () => {
    const id = await failedTransfer();
    const json = { 'content-type': 'application/json' };
    const ok = await post(`/api/transfers/${id}/retry`, JSON.stringify({ by: 'paula' }), json);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { transfer: { status: string } }).transfer.status).toBe('pending');
    const again = await post(`/api/transfers/${id}/retry`, JSON.stringify({ by: 'paula' }), json);
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({
      error: 'The transfer is pending: only a failed transfer can be retried.',
    });
    const missing = await post(`/api/transfers/${id}/retry`, JSON.stringify({}), json);
    expect(missing.status).toBe(400);
    await transfers.app.recall(id, 'rita');
  });
});
