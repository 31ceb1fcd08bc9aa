import type { IsoDate } from '../core/dates.ts';
import { moneyAsDecimals } from '../core/money-json.ts';
import type { Policy } from '../credit/policy.ts';
import { type HttpRequest, type HttpResponse, json } from '../transfers/http.ts';
import { CheckRefusedError, cancelCheck, checkCredit, parseCheckRequest } from './app.ts';
import type { CheckDeps } from './ports.ts';

/**
 * Credit checks over HTTP, framework-free so the same code answers in the local console (under
 * `/api`) and behind the checks Lambda's function URL (IAM auth):
 * - `POST /credit-checks`: `{customerId, orderId, amount, currency, requestedShipDate?, stage?,
 *   channel?}` in, the decision out (200, amounts as decimal strings) whatever the outcome;
 * - `POST /credit-checks/cancel`: `{customerId, orderId, by}` releases the order's reservation.
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
  },
): (req: HttpRequest) => Promise<HttpResponse> {
  return async (req) => {
    const path = req.path.replace(/\/+$/, '');
    if (path !== '/credit-checks' && path !== '/credit-checks/cancel')
      return json(404, { error: 'not found: POST /credit-checks or /credit-checks/cancel' });
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
        const released = await cancelCheck(
          deps,
          { customerId: o.customerId as string, orderId: o.orderId as string, by: o.by as string },
          { today, now },
        );
        return json(200, moneyAsDecimals({ released: released ?? null }));
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
