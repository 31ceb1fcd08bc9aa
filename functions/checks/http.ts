import type { IsoDate } from '../core/dates.ts';
import { moneyAsDecimals } from '../core/money-json.ts';
import type { Policy } from '../credit/policy.ts';
import { type HttpRequest, type HttpResponse, json } from '../transfers/http.ts';
import { CheckRefusedError, checkCredit, parseCheckRequest } from './app.ts';
import { cancelAndRecheck, type OrderReleaseDeps, recheckHeld, requestOrderRelease } from './holds.ts';
import type { CheckDeps } from './ports.ts';

/**
 * Credit checks over HTTP, framework-free so the same code answers in the local console (under
 * `/api`) and behind the checks Lambda's function URL (IAM auth):
 * - `POST /credit-checks`: `{customerId, orderId, amount, currency, requestedShipDate?, stage?,
 *   channel?}` in, the decision out (200, amounts as decimal strings) whatever the outcome;
 * - `POST /credit-checks/cancel`: `{customerId, orderId, by}` releases the order's reservation
 *   (and its hold), then re-checks the customer's held orders;
 * - with `queue` (the console; it reads the table's index): `GET /credit-checks/holds` the hold
 *   queue, `POST /credit-checks/recheck` `{customers?}` re-checks it (README "Held orders");
 * - with `releases` (the approval chain at hand): `POST /credit-checks/release` `{customerId,
 *   orderId, reason, until, requester}` asks an order release (202 with its transfer id).
 * Bad input is a 400 `{issues}` naming each field, nothing written.
 */
export function creditChecksHttp(
  deps: CheckDeps,
  opts: {
    readonly policy: () => Promise<Policy>;
    readonly today: () => IsoDate;
    readonly now: () => Date;
    /** Who the checks come from when the request names no channel (`console`, `api`). */
    readonly channel: string;
    /** Serve the hold queue and its re-check (they read the table's index). @default false */
    readonly queue?: boolean;
    /** Serve the order release (the approval chain). @default none: 404 */
    readonly releases?: OrderReleaseDeps | undefined;
  },
): (req: HttpRequest) => Promise<HttpResponse> {
  return async (req) => {
    const path = req.path.replace(/\/+$/, '');
    const paths = [
      '/credit-checks',
      '/credit-checks/cancel',
      ...(opts.queue ? ['/credit-checks/recheck', '/credit-checks/holds'] : []),
      ...(opts.releases ? ['/credit-checks/release'] : []),
    ];
    if (!paths.includes(path)) return json(404, { error: `not found: ${paths.join(', ')}` });
    if (path === '/credit-checks/holds') {
      if (req.method !== 'GET') {
        const r = json(405, { error: 'use GET' });
        return { ...r, headers: { ...r.headers, allow: 'GET' } };
      }
      return json(200, moneyAsDecimals({ holds: (await deps.store.heldOrders?.()) ?? [] }));
    }
    if (req.method !== 'POST') {
      const r = json(405, { error: 'use POST' });
      return { ...r, headers: { ...r.headers, allow: 'POST' } };
    }
    let input: unknown;
    try {
      input = JSON.parse(req.body);
    } catch {
      return json(400, { issues: [{ field: '(body)', message: 'is not JSON' }] });
    }
    const today = opts.today();
    const now = opts.now().toISOString();
    try {
      if (path === '/credit-checks/cancel') {
        const o = (input ?? {}) as Record<string, unknown>;
        const issues = (['customerId', 'orderId', 'by'] as const)
          .filter((k) => typeof o[k] !== 'string' || (o[k] as string).trim() === '')
          .map((field) => ({ field, message: 'is required' }));
        if (issues.length > 0) return json(400, { issues });
        const r = await cancelAndRecheck(
          deps,
          await opts.policy(),
          { customerId: o.customerId as string, orderId: o.orderId as string, by: o.by as string },
          { today, now },
        );
        return json(
          200,
          moneyAsDecimals({
            released: r.released ?? null,
            held: r.held ?? null,
            rechecked: r.rechecked ?? null,
          }),
        );
      }
      if (path === '/credit-checks/recheck') {
        const o = (input ?? {}) as { customers?: unknown };
        const customers = o.customers;
        if (
          customers !== undefined &&
          (!Array.isArray(customers) || customers.some((c) => typeof c !== 'string' || c.trim() === ''))
        )
          return json(400, { issues: [{ field: 'customers', message: 'must be a list of customer ids' }] });
        const r = await recheckHeld(deps, await opts.policy(), {
          today,
          now,
          customers: customers as string[] | undefined,
        });
        return json(200, r);
      }
      if (path === '/credit-checks/release' && opts.releases) {
        const r = await requestOrderRelease(opts.releases, input);
        return r.ok
          ? json(202, moneyAsDecimals({ transferId: r.transferId, held: r.held }))
          : json(r.status, { issues: r.issues });
      }
      const parsed = parseCheckRequest(input, today, opts.channel);
      if (!parsed.ok) return json(400, { issues: parsed.issues });
      const r = await checkCredit(deps, await opts.policy(), parsed.order, { today, now });
      return json(200, moneyAsDecimals(r));
    } catch (e) {
      if (e instanceof CheckRefusedError) return json(400, { issues: e.issues });
      throw e;
    }
  };
}
