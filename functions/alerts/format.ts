import * as z from 'zod';
import { type IsoDate, isoDateOrNull } from '../core/dates.ts';
import type { Alert, AlertDigest, Notification } from '../credit/alerts.ts';
import { ACTIONS, RULES, SEVERITIES, SEVERITY_RANK, type Severity } from '../credit/policy.ts';

/**
 * What every alert channel says about an alert: the message published on the alerts topic, the
 * email subject and text, and the labels the Slack message uses. Pure; no AWS SDK here.
 */

/** The part of an alert a notification shows. A stored `Alert` is one. */
export type NotifiedAlert = Pick<
  Alert,
  'alertId' | 'customerId' | 'rule' | 'severity' | 'action' | 'summary' | 'evidence' | 'policyId'
>;

/** A notification as channels read it: a full `Notification` is one. */
export interface AlertNotice {
  readonly alert: NotifiedAlert;
  readonly reason: Notification['reason'];
}

export type AlertEventType = 'alert.opened' | 'alert.escalated';
/** Every type of message on the alerts topic. */
export type AlertsTopicEvent = AlertEventType | 'alert.digest';

/** The message published on the alerts topic (SNS `Message`, the "default" and "sqs" text). */
export interface AlertMessage {
  readonly type: AlertEventType;
  readonly asOf: IsoDate;
  readonly alert: Alert;
}

export function alertMessage(n: Notification, asOf: IsoDate): AlertMessage {
  return { type: `alert.${n.reason}`, asOf, alert: n.alert };
}

/**
 * Reads an alert message off the topic. Checks what the channels use and keeps the rest of the
 * alert as it came (history, dates), so a newer publisher's extra fields never break a reader.
 */
export const alertMessageSchema = z.object({
  type: z.enum(['alert.opened', 'alert.escalated']),
  asOf: z.string().refine((s) => isoDateOrNull(s) !== null, 'must be a YYYY-MM-DD date'),
  alert: z.looseObject({
    alertId: z.string().min(1),
    customerId: z.string().min(1),
    rule: z.enum(RULES),
    severity: z.enum(SEVERITIES),
    action: z.enum(ACTIONS),
    summary: z.string(),
    evidence: z.record(z.string(), z.union([z.string(), z.number()])),
    policyId: z.string(),
  }),
});
export type ParsedAlertMessage = z.infer<typeof alertMessageSchema>;

/** The notice a parsed message stands for. */
export function noticeOf(m: ParsedAlertMessage): AlertNotice {
  return { alert: m.alert, reason: m.type === 'alert.opened' ? 'opened' : 'escalated' };
}

/** `maxDaysPastDue` -> `max days past due`; `altmanZ2` -> `altman z2`. */
export function humanize(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase();
}

/** `maxDaysPastDue` -> `Max days past due`. */
export function label(name: string): string {
  const h = humanize(name);
  return h.charAt(0).toUpperCase() + h.slice(1);
}

/** The Number message attribute subscriptions filter severities on (info 0 .. critical 3). */
export const SEVERITY_RANK_ATTRIBUTE = 'severityRank';

export function severityRank(s: Severity): number {
  return SEVERITY_RANK[s];
}

/** SNS: "UTF-8 text with no line breaks or control characters, and less than 100 characters long". */
export const SUBJECT_MAX = 99;

/** Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]+/gu;

/** Cuts text to `max` characters (code points, so no half of a surrogate pair), marking the cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 3).join('')}...`;
}

/** `[high] ACME-1 daysPastDue: an invoice is 75 days past due` (escalations say so after the rule). */
export function alertSubject(n: AlertNotice): string {
  const a = n.alert;
  const text = `[${a.severity}] ${a.customerId} ${a.rule}${n.reason === 'escalated' ? ' escalated' : ''}: ${a.summary}`;
  return truncate(text.replace(CONTROL, ' ').trim(), SUBJECT_MAX);
}

/** The plain-text body email subscribers get. */
export function alertEmailText(n: AlertNotice, asOf: IsoDate): string {
  const a = n.alert;
  const evidence = Object.entries(a.evidence).map(([k, v]) => `  ${label(k)}: ${v}`);
  return [
    `${a.customerId}: ${a.summary}`,
    '',
    `Severity: ${a.severity}${n.reason === 'escalated' ? ' (escalated)' : ''}`,
    `Rule: ${humanize(a.rule)} (${a.rule})`,
    `Suggested action: ${humanize(a.action)}`,
    ...(evidence.length > 0 ? ['Evidence:', ...evidence] : []),
    '',
    `As of ${asOf}, policy ${a.policyId}, alert ${a.alertId}.`,
  ].join('\n');
}

// ---- the daily digest ----

/** The digest as it is published on the alerts topic. */
export interface DigestMessage {
  readonly type: 'alert.digest';
  readonly digest: AlertDigest;
}

export function digestMessage(digest: AlertDigest): DigestMessage {
  return { type: 'alert.digest', digest };
}

const severityCount = z.number().int().min(0);
export const digestMessageSchema = z.object({
  type: z.literal('alert.digest'),
  digest: z.object({
    asOf: z.string().refine((s) => isoDateOrNull(s) !== null, 'must be a YYYY-MM-DD date'),
    active: z.number().int().min(1),
    bySeverity: z.object({
      critical: severityCount,
      high: severityCount,
      warning: severityCount,
      info: severityCount,
    }),
    alerts: z.array(
      z.looseObject({
        alertId: z.string().min(1),
        customerId: z.string().min(1),
        rule: z.enum(RULES),
        severity: z.enum(SEVERITIES),
        status: z.enum(['open', 'acknowledged', 'snoozed']),
        action: z.enum(ACTIONS),
        summary: z.string(),
        openedAsOf: z.string(),
      }),
    ),
    more: z.number().int().min(0),
  }),
});
export type ParsedDigestMessage = z.infer<typeof digestMessageSchema>;

/** Any message of the alerts topic: an alert's notification or the daily digest. */
export const alertsTopicMessageSchema = z.discriminatedUnion('type', [
  alertMessageSchema,
  digestMessageSchema,
]);

/** `credit-sentinel 2026-06-30: 5 active alerts (1 critical, 2 high)` */
export function digestSubject(d: Pick<AlertDigest, 'asOf' | 'active' | 'bySeverity'>): string {
  return `credit-sentinel ${d.asOf}: ${d.active} active alert${d.active === 1 ? '' : 's'} (${d.bySeverity.critical} critical, ${d.bySeverity.high} high)`;
}

/** `[high] C1 daysPastDue: an invoice is 75 days past due -> hold deliveries (open since 2026-06-02)` */
export function digestLine(a: AlertDigest['alerts'][number]): string {
  const line = `[${a.severity}] ${a.customerId} ${a.rule}: ${a.summary} -> ${humanize(a.action)} (${a.status} since ${a.openedAsOf})`;
  return line.replace(CONTROL, ' ');
}

/** The plain-text body digest email subscribers get. */
export function digestEmailText(d: AlertDigest): string {
  return [
    `${digestSubject(d)}, ${d.bySeverity.warning} warning, ${d.bySeverity.info} info.`,
    '',
    ...d.alerts.map(digestLine),
    ...(d.more > 0 ? ['', `... and ${d.more} more: the console's Alerts page lists them all.`] : []),
  ].join('\n');
}
