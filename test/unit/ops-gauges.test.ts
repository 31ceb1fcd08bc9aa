import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AuditAnchor, makeAnchor } from '../../functions/core/audit.ts';
import { METRICS_NAMESPACE, metricSpec } from '../../functions/core/metrics.ts';
import { AUDIT_ANCHOR_EVENT, createGaugesHandler } from '../../functions/ops/app.ts';
import { gaugesOf } from '../../functions/ops/gauges.ts';
import type { Approval } from '../../functions/transfers/ports.ts';
import { localContext } from '../../infra/local/runtime/inbox.ts';

const NOW = new Date('2025-07-01T12:00:00.000Z');

const approval = (
  approvalId: string,
  notifiedAt: string,
  status: Approval['status'] = 'pending',
): Approval => ({
  approvalId,
  transferId: `TR-${approvalId}`,
  level: 1,
  approver: 'cfo',
  status,
  notifiedAt,
  expiresAt: '2025-07-10T00:00:00.000Z',
  reminders: 0,
});

describe('gaugesOf', () => {
  it('is zero and zero when nothing waits', () => {
    expect(gaugesOf([], NOW)).toEqual({ approvalsPending: 0, oldestApprovalAgeSeconds: 0 });
  });

  it('counts the pending approvals and ages the oldest from notifiedAt, in whole seconds', () => {
    const pending = [
      approval('b', '2025-07-01T11:00:00.000Z'),
      approval('a', '2025-06-29T11:59:59.400Z'), // 48 h 0.6 s ago
      approval('c', '2025-07-01T11:59:59.000Z'),
    ];
    expect(gaugesOf(pending, NOW)).toEqual({ approvalsPending: 3, oldestApprovalAgeSeconds: 48 * 3600 });
  });

  it('leaves out approvals that are no longer pending', () => {
    const list = [
      approval('old', '2025-06-01T00:00:00.000Z', 'approved'),
      approval('void', '2025-06-02T00:00:00.000Z', 'void'),
      approval('p', '2025-07-01T11:58:00.000Z'),
    ];
    expect(gaugesOf(list, NOW)).toEqual({ approvalsPending: 1, oldestApprovalAgeSeconds: 120 });
  });

  it('never reports a negative age (a notifiedAt ahead of the clock) nor NaN (an unreadable one)', () => {
    expect(gaugesOf([approval('f', '2025-07-01T12:05:00.000Z')], NOW)).toEqual({
      approvalsPending: 1,
      oldestApprovalAgeSeconds: 0,
    });
    expect(gaugesOf([approval('x', 'yesterday'), approval('y', '2025-07-01T11:59:00.000Z')], NOW)).toEqual({
      approvalsPending: 2,
      oldestApprovalAgeSeconds: 60,
    });
  });
});

describe('the gauges handler', () => {
  afterEach(() => vi.restoreAllMocks());

  /** Runs the handler with a real Metrics instance and returns the EMF documents it printed. */
  const run = async (pending: Approval[]) => {
    // Powertools prints EMF with its own Console on process.stdout (its `logger` option only gets warnings).
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const handler = createGaugesHandler({
      store: { listPendingApprovals: async () => pending },
      clock: { now: () => NOW },
      logger: new Logger({ serviceName: 'ops-gauges', logLevel: 'SILENT' }),
      metrics: new Metrics({
        namespace: METRICS_NAMESPACE,
        serviceName: 'transfers',
        logger: new Logger({ logLevel: 'SILENT' }),
      }),
    });
    const result = await handler({ type: 'ops.gauges' }, localContext());
    vi.restoreAllMocks();
    const emf = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { result, emf };
  };

  it('emits ApprovalsPending and OldestApprovalAge as one EMF document, namespace and service of the catalogue', async () => {
    const { result, emf } = await run([
      approval('a', '2025-06-28T12:00:00.000Z'),
      approval('b', '2025-07-01T10:00:00.000Z'),
    ]);
    expect(result).toEqual({ approvalsPending: 2, oldestApprovalAgeSeconds: 72 * 3600 });
    expect(emf).toHaveLength(1);
    const [doc] = emf;
    const aws = doc?._aws as {
      Timestamp: number;
      CloudWatchMetrics: {
        Namespace: string;
        Dimensions: string[][];
        Metrics: { Name: string; Unit: string }[];
      }[];
    };
    expect(aws.CloudWatchMetrics).toHaveLength(1);
    const [directive] = aws.CloudWatchMetrics;
    expect(directive?.Namespace).toBe('CreditSentinel');
    expect(directive?.Dimensions).toEqual([['service']]);
    expect(doc?.service).toBe(metricSpec('ApprovalsPending').service);
    expect(doc?.service).toBe(metricSpec('OldestApprovalAge').service);
    expect(directive?.Metrics).toEqual([
      { Name: 'ApprovalsPending', Unit: 'Count' },
      { Name: 'OldestApprovalAge', Unit: 'Seconds' },
    ]);
    expect(directive?.Metrics.map((m) => m.Unit)).toEqual([
      metricSpec('ApprovalsPending').unit,
      metricSpec('OldestApprovalAge').unit,
    ]);
    expect(doc?.ApprovalsPending).toBe(2);
    expect(doc?.OldestApprovalAge).toBe(72 * 3600);
  });

  it('emits zeros when nothing waits, so the SLA alarm sees data rather than silence', async () => {
    const { emf } = await run([]);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ ApprovalsPending: 0, OldestApprovalAge: 0, service: 'transfers' });
  });

  it('fails the invocation when the store cannot be read', async () => {
    const handler = createGaugesHandler({
      store: {
        listPendingApprovals: async () => {
          throw new Error('throttled');
        },
      },
      clock: { now: () => NOW },
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({
        namespace: METRICS_NAMESPACE,
        serviceName: 'transfers',
        logger: new Logger({ logLevel: 'SILENT' }),
      }),
    });
    await expect(handler({}, localContext())).rejects.toThrow('throttled');
  });
});

describe('the hourly audit anchor', () => {
  const handlerWith = (auditAnchor?: () => Promise<AuditAnchor | undefined>, listed = { n: 0 }) =>
    createGaugesHandler({
      store: {
        listPendingApprovals: async () => {
          listed.n++;
          return [];
        },
      },
      clock: { now: () => NOW },
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({
        namespace: METRICS_NAMESPACE,
        serviceName: 'transfers',
        logger: new Logger({ logLevel: 'SILENT' }),
      }),
      ...(auditAnchor ? { auditAnchor } : {}),
    });

  it('anchors the head on ops.audit-anchor, and samples no gauge', async () => {
    const key = { id: 'k1', secret: Buffer.alloc(32, 7) };
    const anchor = makeAnchor(NOW.toISOString(), { seq: 12, hash: 'ab'.repeat(32) }, key);
    let calls = 0;
    const listed = { n: 0 };
    const handler = handlerWith(async () => {
      calls++;
      return anchor;
    }, listed);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await handler({ type: AUDIT_ANCHOR_EVENT }, localContext())).toEqual({ anchored: anchor });
    expect(await handlerWith(async () => undefined)({ type: AUDIT_ANCHOR_EVENT }, localContext())).toEqual({
      anchored: null,
    });
    vi.restoreAllMocks();
    expect(calls).toBe(1);
    expect(listed.n).toBe(0);
  });

  it('fails the invocation when no anchor bucket is configured, rather than anchoring nothing silently', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await expect(handlerWith()({ type: AUDIT_ANCHOR_EVENT }, localContext())).rejects.toThrow(
      /AUDIT_ANCHOR_BUCKET/,
    );
    vi.restoreAllMocks();
  });
});
