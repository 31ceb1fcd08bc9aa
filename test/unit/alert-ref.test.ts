import { describe, expect, it } from 'vitest';
import { alertRef } from '../../functions/credit/alerts.ts';

describe('the alert an id names (alerts ack|resolve|snooze)', () => {
  it('reads <customer>/<rule>, or an alert id <customer>/<rule>/<opened at>, from the end', () => {
    expect(alertRef('C1004/daysPastDue')).toEqual({ customerId: 'C1004', rule: 'daysPastDue' });
    expect(alertRef('C1004/daysPastDue/2026-12-01T05:00:00.000Z')).toEqual({
      customerId: 'C1004',
      rule: 'daysPastDue',
      alertId: 'C1004/daysPastDue/2026-12-01T05:00:00.000Z',
    });
    // A customer id may hold a slash: the rule is found from the end.
    expect(alertRef('ACME/EU/limitUse')).toEqual({ customerId: 'ACME/EU', rule: 'limitUse' });
  });

  it('names no alert without a known rule', () => {
    expect(alertRef('C1004')).toBeUndefined();
    expect(alertRef('C1004/overdue')).toBeUndefined();
    expect(alertRef('daysPastDue')).toBeUndefined();
  });
});
