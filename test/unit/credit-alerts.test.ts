import { describe, expect, it } from 'vitest';
import { digestEmailText, digestLine, digestSubject } from '../../functions/alerts/format.ts';
import { sameData } from '../../functions/core/canonical.ts';
import {
  type Alert,
  type AlertCommand,
  applyCommand,
  digestOf,
  explainFindings,
  reconcile,
} from '../../functions/credit/alerts.ts';
import type { Action, RuleName, Severity } from '../../functions/credit/policy.ts';
import {
  type AlertCandidate,
  type ExplainedCandidate,
  explainCandidate,
} from '../../functions/credit/rules.ts';

const ACTION: Record<Severity, Action> = {
  info: 'review',
  warning: 'collect',
  high: 'hold_deliveries',
  critical: 'cut_limit',
};

function cand(
  severity: Severity,
  asOf: string,
  rule: RuleName = 'daysPastDue',
  customerId = 'C1',
  extra: Partial<ExplainedCandidate> = {},
): ExplainedCandidate {
  return {
    customerId,
    rule,
    severity,
    action: ACTION[severity],
    asOf,
    policyId: 'default-2026.11+0000abcd',
    evidence: { level: severity },
    summary: `${rule} is ${severity}`,
    ...extra,
  };
}

const T1 = '2026-06-30T06:00:00.000Z';
const T2 = '2026-07-01T06:00:00.000Z';
const T3 = '2026-07-02T06:00:00.000Z';

/** Opens one alert for C1/daysPastDue at `severity` on 2026-06-30. */
function opened(severity: Severity = 'warning', rule: RuleName = 'daysPastDue', customerId = 'C1'): Alert {
  const r = reconcile([], [cand(severity, '2026-06-30', rule, customerId)], '2026-06-30', T1);
  const a = r.changed[0];
  if (!a) throw new Error('fixture: nothing opened');
  return a;
}

function cmd(a: Alert, c: AlertCommand, now = T2, today = '2026-07-01'): Alert {
  const r = applyCommand(a, c, now, today);
  if ('refused' in r) throw new Error(`fixture: refused ${r.refused}`);
  return r;
}

describe('reconcile: opening', () => {
  it('a new finding opens an alert and notifies once', () => {
    const r = reconcile([], [cand('warning', '2026-06-30')], '2026-06-30', T1);
    expect(r.changed).toEqual([
      {
        alertId: 'C1/daysPastDue/2026-06-30',
        customerId: 'C1',
        rule: 'daysPastDue',
        status: 'open',
        severity: 'warning',
        action: 'collect',
        summary: 'daysPastDue is warning',
        evidence: { level: 'warning' },
        policyId: 'default-2026.11+0000abcd',
        openedAt: T1,
        openedAsOf: '2026-06-30',
        seenAsOf: '2026-06-30',
        notifiedSeverity: 'warning',
        history: [{ at: T1, event: 'opened', severity: 'warning' }],
      },
    ]);
    expect(r.notify).toEqual([{ alert: r.changed[0], reason: 'opened' }]);
  });

  it('one alert per customer and rule: a finding for an open alert updates it', () => {
    const a = opened('warning');
    const r = reconcile([a], [cand('warning', '2026-07-01')], '2026-07-01', T2);
    expect(r.changed.map((x) => x.alertId)).toEqual([a.alertId]);
    expect(r.notify).toEqual([]);
  });

  it('different rules are different alerts', () => {
    const r = reconcile(
      [],
      [cand('warning', '2026-06-30', 'daysPastDue'), cand('high', '2026-06-30', 'limitUse')],
      '2026-06-30',
      T1,
    );
    expect(r.changed.map((x) => x.alertId)).toEqual(['C1/daysPastDue/2026-06-30', 'C1/limitUse/2026-06-30']);
    expect(r.notify.map((n) => n.reason)).toEqual(['opened', 'opened']);
  });

  it('a resolved alert is history: the same finding later opens a new one', () => {
    const a = cmd(opened('warning'), { kind: 'resolve', by: 'ana' });
    const r = reconcile([a], [cand('warning', '2026-07-02')], '2026-07-02', T3);
    expect(r.changed).toHaveLength(1);
    expect(r.changed[0]?.alertId).toBe('C1/daysPastDue/2026-07-02');
    expect(r.changed[0]?.status).toBe('open');
    expect(r.notify.map((n) => n.reason)).toEqual(['opened']);
  });

  it('is pure: the same inputs give the same result', () => {
    const a = opened('warning');
    const cs = [cand('high', '2026-07-01'), cand('info', '2026-07-01', 'staleFinancials')];
    expect(reconcile([a], cs, '2026-07-01', T2)).toEqual(reconcile([a], cs, '2026-07-01', T2));
    expect(a.status).toBe('open'); // the input alert is not changed
    expect(a.history).toHaveLength(1);
  });
});

describe('reconcile: the same severity', () => {
  it('next day: updated (seen again, new evidence) without a notification', () => {
    const a = opened('warning');
    const r = reconcile(
      [a],
      [
        cand('warning', '2026-07-01', 'daysPastDue', 'C1', {
          summary: 'now 31 days',
          evidence: { days: 31 },
        }),
      ],
      '2026-07-01',
      T2,
    );
    expect(r.notify).toEqual([]);
    expect(r.changed).toHaveLength(1);
    const u = r.changed[0];
    expect(u?.seenAsOf).toBe('2026-07-01');
    expect(u?.openedAsOf).toBe('2026-06-30');
    expect(u?.summary).toBe('now 31 days');
    expect(u?.evidence).toEqual({ days: 31 });
    expect(u?.status).toBe('open');
    expect(u?.history).toEqual(a.history); // no event
  });

  it('the same day and the same evidence: nothing to store', () => {
    const a = opened('warning');
    const r = reconcile([a], [cand('warning', '2026-06-30')], '2026-06-30', T2);
    expect(r).toEqual({ changed: [], notify: [] });
  });

  it('an acknowledged alert stays acknowledged', () => {
    const a = cmd(opened('warning'), { kind: 'ack', by: 'ana' });
    const r = reconcile([a], [cand('warning', '2026-07-02')], '2026-07-02', T3);
    expect(r.notify).toEqual([]);
    expect(r.changed[0]?.status).toBe('acknowledged');
  });
});

describe('reconcile: severity changes', () => {
  it('a rise notifies (escalated) and records it', () => {
    const a = opened('warning');
    const r = reconcile([a], [cand('high', '2026-07-01')], '2026-07-01', T2);
    const u = r.changed[0];
    expect(r.changed).toHaveLength(1);
    expect(r.notify).toEqual([{ alert: u, reason: 'escalated' }]);
    expect(u?.severity).toBe('high');
    expect(u?.action).toBe('hold_deliveries');
    expect(u?.notifiedSeverity).toBe('high');
    expect(u?.status).toBe('open');
    expect(u?.alertId).toBe(a.alertId);
    expect(u?.history).toEqual([
      { at: T1, event: 'opened', severity: 'warning' },
      { at: T2, event: 'escalated', severity: 'high' },
    ]);
  });

  it('a rise reopens an acknowledged alert', () => {
    const a = cmd(opened('warning'), { kind: 'ack', by: 'ana' });
    const r = reconcile([a], [cand('critical', '2026-07-02')], '2026-07-02', T3);
    expect(r.changed[0]?.status).toBe('open');
    expect(r.notify.map((n) => n.reason)).toEqual(['escalated']);
  });

  it('a rise reopens a snoozed alert and ends the snooze', () => {
    const a = cmd(opened('warning'), { kind: 'snooze', by: 'ana', until: '2026-07-15' });
    expect(a.status).toBe('snoozed');
    const r = reconcile([a], [cand('high', '2026-07-02')], '2026-07-02', T3);
    expect(r.changed[0]?.status).toBe('open');
    expect(r.changed[0]?.snoozedUntil).toBeUndefined();
    expect(r.notify.map((n) => n.reason)).toEqual(['escalated']);
  });

  it('a fall is recorded as eased, without a notification', () => {
    const a = opened('high');
    const r = reconcile([a], [cand('warning', '2026-07-01')], '2026-07-01', T2);
    const u = r.changed[0];
    expect(r.notify).toEqual([]);
    expect(u?.severity).toBe('warning');
    expect(u?.notifiedSeverity).toBe('high'); // what people were told stays
    expect(u?.history.at(-1)).toEqual({ at: T2, event: 'eased', severity: 'warning' });
  });

  it('after easing, coming back to what people were told does not notify again; going beyond does', () => {
    const high = opened('high');
    const eased = reconcile([high], [cand('warning', '2026-07-01')], '2026-07-01', T2).changed[0] as Alert;
    const back = reconcile([eased], [cand('high', '2026-07-02')], '2026-07-02', T3);
    expect(back.notify).toEqual([]);
    expect(back.changed[0]?.severity).toBe('high');
    const worse = reconcile([eased], [cand('critical', '2026-07-02')], '2026-07-02', T3);
    expect(worse.notify.map((n) => n.reason)).toEqual(['escalated']);
    expect(worse.changed[0]?.notifiedSeverity).toBe('critical');
  });
});

describe('reconcile: resolving and snoozes', () => {
  it('an alert whose finding is gone resolves by itself, without a notification', () => {
    const a = opened('high');
    const r = reconcile([a], [], '2026-07-01', T2);
    expect(r.notify).toEqual([]);
    expect(r.changed).toHaveLength(1);
    const u = r.changed[0];
    expect(u?.status).toBe('resolved');
    expect(u?.resolvedAt).toBe(T2);
    expect(u?.history.at(-1)).toEqual({
      at: T2,
      event: 'resolved',
      note: 'condition cleared as of 2026-07-01',
    });
  });

  it('only the rule that cleared resolves', () => {
    const dpd = opened('warning', 'daysPastDue');
    const use = opened('high', 'limitUse');
    const r = reconcile([dpd, use], [cand('high', '2026-07-01', 'limitUse')], '2026-07-01', T2);
    const byRule = new Map(r.changed.map((x) => [x.rule, x]));
    expect(byRule.get('daysPastDue')?.status).toBe('resolved');
    expect(byRule.get('limitUse')?.status).toBe('open');
  });

  it('alerts of rules that were not evaluated are left as they are', () => {
    const dpd = opened('warning', 'daysPastDue');
    const conc = opened('warning', 'concentration');
    const r = reconcile([dpd, conc], [], '2026-07-01', T2, new Set<RuleName>(['daysPastDue']));
    expect(r.changed.map((x) => [x.rule, x.status])).toEqual([['daysPastDue', 'resolved']]);
  });

  it('a resolved alert passed in is not resolved again', () => {
    const a = cmd(opened('warning'), { kind: 'resolve', by: 'ana' });
    expect(reconcile([a], [], '2026-07-02', T3)).toEqual({ changed: [], notify: [] });
  });

  it('a snooze holds before its date and ends on it (snoozedUntil <= asOf)', () => {
    const a = cmd(opened('warning'), { kind: 'snooze', by: 'ana', until: '2026-07-05' });
    const before = reconcile([a], [cand('warning', '2026-07-04')], '2026-07-04', T3);
    expect(before.changed[0]?.status).toBe('snoozed');
    expect(before.changed[0]?.snoozedUntil).toBe('2026-07-05');
    expect(before.notify).toEqual([]);

    const on = reconcile([a], [cand('warning', '2026-07-05')], '2026-07-05', T3);
    const u = on.changed[0];
    expect(u?.status).toBe('open');
    expect(u?.snoozedUntil).toBeUndefined();
    expect(u?.history.at(-1)).toEqual({ at: T3, event: 'snooze ended' });
    expect(on.notify).toEqual([]); // nothing worse than what people were told
  });

  it('a snoozed alert whose finding is gone resolves', () => {
    const a = cmd(opened('warning'), { kind: 'snooze', by: 'ana', until: '2026-07-05' });
    const r = reconcile([a], [], '2026-07-03', T3);
    expect(r.changed[0]?.status).toBe('resolved');
  });
});

describe('applyCommand', () => {
  it('ack: acknowledged, with who and a note', () => {
    const a = cmd(opened('warning'), { kind: 'ack', by: 'ana', note: 'calling them' });
    expect(a.status).toBe('acknowledged');
    expect(a.history.at(-1)).toEqual({ at: T2, event: 'acknowledged', by: 'ana', note: 'calling them' });
  });

  it('ack twice is refused', () => {
    const a = cmd(opened('warning'), { kind: 'ack', by: 'ana' });
    expect(applyCommand(a, { kind: 'ack', by: 'bob' }, T3, '2026-07-02')).toEqual({
      refused: `alert ${a.alertId} is already acknowledged`,
    });
  });

  it('snooze: until a date after today, noted', () => {
    const a = cmd(opened('warning'), { kind: 'snooze', by: 'ana', until: '2026-07-02' }, T2, '2026-07-01');
    expect(a.status).toBe('snoozed');
    expect(a.snoozedUntil).toBe('2026-07-02');
    expect(a.history.at(-1)).toEqual({ at: T2, event: 'snoozed', by: 'ana', note: 'until 2026-07-02' });
  });

  it('snooze until today or earlier is refused', () => {
    const a = opened('warning');
    expect(applyCommand(a, { kind: 'snooze', by: 'ana', until: '2026-07-01' }, T2, '2026-07-01')).toEqual({
      refused: 'snooze until 2026-07-01: that is not after today (2026-07-01)',
    });
    expect(
      'refused' in applyCommand(a, { kind: 'snooze', by: 'ana', until: '2026-06-01' }, T2, '2026-07-01'),
    ).toBe(true);
  });

  it('ack of a snoozed alert ends the snooze', () => {
    const s = cmd(opened('warning'), { kind: 'snooze', by: 'ana', until: '2026-07-10' });
    const a = cmd(s, { kind: 'ack', by: 'bob' }, T3, '2026-07-02');
    expect(a.status).toBe('acknowledged');
    expect(a.snoozedUntil).toBeUndefined();
  });

  it('resolve: resolved by a person, and then every command is refused', () => {
    const r = cmd(opened('high'), { kind: 'resolve', by: 'ana', note: 'paid in full' });
    expect(r.status).toBe('resolved');
    expect(r.resolvedAt).toBe(T2);
    expect(r.history.at(-1)).toEqual({ at: T2, event: 'resolved', by: 'ana', note: 'paid in full' });
    const refused = { refused: `alert ${r.alertId} is already resolved` };
    expect(applyCommand(r, { kind: 'ack', by: 'bob' }, T3, '2026-07-02')).toEqual(refused);
    expect(applyCommand(r, { kind: 'snooze', by: 'bob', until: '2026-08-01' }, T3, '2026-07-02')).toEqual(
      refused,
    );
    expect(applyCommand(r, { kind: 'resolve', by: 'bob' }, T3, '2026-07-02')).toEqual(refused);
  });

  it('does not change the alert it is given', () => {
    const a = opened('warning');
    cmd(a, { kind: 'ack', by: 'ana' });
    expect(a.status).toBe('open');
    expect(a.history).toHaveLength(1);
  });

  it('keeps at most the last 50 events', () => {
    let a = opened('warning'); // 1 event
    for (let i = 0; i < 30; i++) {
      a = cmd(a, { kind: 'snooze', by: 'ana', until: '2026-08-01', note: `s${i}` });
      a = cmd(a, { kind: 'ack', by: 'ana', note: `a${i}` });
    }
    // 1 + 60 events, only the last 50 kept
    expect(a.history).toHaveLength(50);
    expect(a.history[0]?.note).toBe('s5'); // events 12..61: 61 - 50 = 11 dropped (opened, s0..a4)
    expect(a.history.at(-1)?.note).toBe('a29');
  });
});

describe('digest', () => {
  it('nothing active, no digest', () => {
    const r = cmd(opened('high'), { kind: 'resolve', by: 'ana' });
    expect(digestOf([], '2026-06-30')).toBeUndefined();
    expect(digestOf([r], '2026-06-30')).toBeUndefined();
  });

  it('most severe first, then by customer and rule; resolved alerts left out', () => {
    const alerts = [
      opened('warning', 'limitUse', 'C2'),
      opened('high', 'overdueAmount', 'C2'),
      cmd(opened('critical', 'daysPastDue', 'C9'), { kind: 'resolve', by: 'ana' }),
      opened('high', 'daysPastDue', 'C1'),
      cmd(opened('critical', 'limitUse', 'C3'), { kind: 'ack', by: 'ana' }),
      opened('warning', 'daysPastDue', 'C2'),
    ];
    const d = digestOf(alerts, '2026-06-30');
    // 5 active: 1 critical (C3), 2 high (C1, C2), 2 warning
    expect(d).toMatchObject({
      asOf: '2026-06-30',
      active: 5,
      bySeverity: { critical: 1, high: 2, warning: 2, info: 0 },
      more: 0,
    });
    expect(d?.alerts[0]).toEqual({
      alertId: 'C3/limitUse/2026-06-30',
      customerId: 'C3',
      rule: 'limitUse',
      severity: 'critical',
      status: 'acknowledged',
      action: 'cut_limit',
      summary: 'limitUse is critical',
      openedAsOf: '2026-06-30',
    });
    if (!d) throw new Error('no digest');
    expect(digestSubject(d)).toBe('credit-sentinel 2026-06-30: 5 active alerts (1 critical, 2 high)');
    expect(d.alerts.map(digestLine)).toEqual([
      '[critical] C3 limitUse: limitUse is critical -> cut limit (acknowledged since 2026-06-30)',
      '[high] C1 daysPastDue: daysPastDue is high -> hold deliveries (open since 2026-06-30)',
      '[high] C2 overdueAmount: overdueAmount is high -> hold deliveries (open since 2026-06-30)',
      '[warning] C2 daysPastDue: daysPastDue is warning -> collect (open since 2026-06-30)',
      '[warning] C2 limitUse: limitUse is warning -> collect (open since 2026-06-30)',
    ]);
  });

  it('one alert: singular subject', () => {
    const d = digestOf([opened('info', 'staleFinancials')], '2026-07-01');
    if (!d) throw new Error('no digest');
    expect(digestSubject(d)).toBe('credit-sentinel 2026-07-01: 1 active alert (0 critical, 0 high)');
    expect(digestEmailText(d)).toBe(
      'credit-sentinel 2026-07-01: 1 active alert (0 critical, 0 high), 0 warning, 1 info.\n\n' +
        '[info] C1 staleFinancials: staleFinancials is info -> review (open since 2026-06-30)',
    );
  });

  it('lists the most severe ones and counts the rest, so a long list stays readable', () => {
    const alerts = Array.from({ length: 7 }, (_, i) =>
      opened(i < 2 ? 'critical' : 'warning', 'daysPastDue', `C${i}`),
    );
    const d = digestOf(alerts, '2026-06-30', 3);
    if (!d) throw new Error('no digest');
    expect(d.alerts.map((a) => a.customerId)).toEqual(['C0', 'C1', 'C2']);
    expect(d.more).toBe(4);
    expect(d.active).toBe(7);
    expect(digestEmailText(d).split('\n').at(-1)).toBe(
      "... and 4 more: the console's Alerts page lists them all.",
    );
  });
});

describe('explainFindings: words made only for what is new or changed', () => {
  const finding = (overdueAmount: number, currency = 'EUR'): AlertCandidate => ({
    customerId: 'C1',
    rule: 'daysPastDue',
    severity: 'high',
    action: 'hold_deliveries',
    asOf: '2026-07-01',
    policyId: 'default-2026.11+0000abcd',
    currency,
    facts: { maxDaysPastDue: 61, overdueAmount, openInvoices: 2 },
  });
  // Yesterday's alert, made from the same numbers; its words are marked so a reuse shows.
  const yesterday = (status: Alert['status'] = 'open'): Alert => {
    const made = explainCandidate({ ...finding(123_456), asOf: '2026-06-30' });
    const r = reconcile([], [{ ...made, summary: 'told yesterday' }], '2026-06-30', T1);
    const a = r.changed[0] as Alert;
    return { ...a, status };
  };

  it('an active alert made from the same numbers keeps its words; the finding keeps its own date', () => {
    const [c] = explainFindings([finding(123_456)], [yesterday()]);
    expect(c?.summary).toBe('told yesterday');
    expect(c?.asOf).toBe('2026-07-01');
    expect(c?.facts).toEqual(finding(123_456).facts);
  });

  it.each([
    ['other numbers', [finding(123_457)], [yesterday()]],
    ['another currency', [finding(123_456, 'GBP')], [yesterday()]],
    ['a resolved alert', [finding(123_456)], [yesterday('resolved')]],
    [
      'an alert stored before findings kept their numbers',
      [finding(123_456)],
      [{ ...yesterday(), facts: undefined }],
    ],
    ['no alert', [finding(123_456)], []],
  ] as const)('%s: the words are made again', (_what, found, active) => {
    const [c] = explainFindings(found, active);
    expect(c?.summary).toBe('an invoice is 61 days past due');
    expect(c).toEqual(explainCandidate(found[0]));
  });

  it('reconciling with reused words stores nothing new but the day it was seen', () => {
    const a = yesterday();
    const r = reconcile([a], explainFindings([finding(123_456)], [a]), '2026-07-01', T2);
    expect(r.notify).toEqual([]);
    expect(r.changed).toEqual([{ ...a, seenAsOf: '2026-07-01' }]);
  });
});

describe('sameData', () => {
  it('compares plain data whatever order the attributes come in; absent and undefined are the same', () => {
    expect(sameData({ a: 1, b: { c: [1, 'x', null] } }, { b: { c: [1, 'x', null] }, a: 1 })).toBe(true);
    expect(sameData({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameData({ a: 1 }, { a: 1, b: undefined })).toBe(true);
    expect(sameData(undefined, undefined)).toBe(true);
  });

  it.each([
    [{ a: 1 }, { a: 2 }],
    [{ a: 1 }, { a: 1, b: 0 }],
    [{ a: 1, b: 0 }, { a: 1 }],
    [
      [1, 2],
      [2, 1],
    ],
    [[1], { 0: 1 }],
    [{ a: null }, { a: undefined }],
    [{ a: '1' }, { a: 1 }],
    [{ a: [1] }, { a: [1, 1] }],
    [undefined, {}],
  ])('%j differs from %j', (a, b) => {
    expect(sameData(a, b)).toBe(false);
    expect(sameData(b, a)).toBe(false);
  });
});
