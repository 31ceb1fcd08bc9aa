import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Requests from Slack (the Approve/Reject buttons): Slack signs each with the app's signing
 * secret (v0 scheme: HMAC-SHA256 over `v0:<timestamp>:<raw body>`, sent as `X-Slack-Signature:
 * v0=<hex>` beside `X-Slack-Request-Timestamp`). Only a signed, fresh request is read.
 */

export type SlackVerification =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'missing-headers' | 'stale-timestamp' | 'bad-signature' };

export interface SlackRequestInput {
  readonly signingSecret: string;
  /** `X-Slack-Request-Timestamp`: seconds since the epoch. */
  readonly timestamp: string | undefined;
  /** `X-Slack-Signature`: `v0=<hex>`. */
  readonly signature: string | undefined;
  /** The body exactly as received, before any parsing. */
  readonly rawBody: string;
  readonly now: Date;
  /** How far the timestamp may be from `now`, either way. @default 300 */
  readonly toleranceSeconds?: number;
}

/**
 * Checks a request's Slack signature: both headers present, the timestamp an integer within the
 * tolerance of `now` (a replay of an old request fails), and the signature equal to the expected
 * one, compared in constant time. An empty signing secret verifies nothing.
 */
export function verifySlackRequest(input: SlackRequestInput): SlackVerification {
  const { timestamp, signature } = input;
  if (!timestamp || !signature) return { ok: false, reason: 'missing-headers' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'stale-timestamp' };
  const tolerance = input.toleranceSeconds ?? 300;
  if (Math.abs(input.now.getTime() - Number(timestamp) * 1000) > tolerance * 1000)
    return { ok: false, reason: 'stale-timestamp' };
  if (input.signingSecret === '') return { ok: false, reason: 'bad-signature' };
  const expected = Buffer.from(
    `v0=${createHmac('sha256', input.signingSecret).update(`v0:${timestamp}:${input.rawBody}`).digest('hex')}`,
    'utf8',
  );
  const given = Buffer.from(signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad-signature' };
  return { ok: true };
}

export const SLACK_ACTIONS = ['transfer.approve', 'transfer.reject'] as const;
export type SlackActionId = (typeof SLACK_ACTIONS)[number];

export interface SlackInteraction {
  /** The Slack member who pressed the button. */
  readonly userId: string;
  readonly actionId: SlackActionId;
  /** The button's value: the signed link token. */
  readonly value: string;
  /** Where to answer (replace the message); only a Slack https hook address. */
  readonly responseUrl?: string;
}

const RESPONSE_HOSTS = new Set(['hooks.slack.com', 'hooks.slack-gov.com']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * Reads a `block_actions` interaction (`application/x-www-form-urlencoded` with a JSON `payload`)
 * of an Approve or Reject button. Undefined for anything else or anything malformed. A
 * `response_url` that is not an https Slack hook address is left out (nothing is posted there).
 */
export function parseSlackInteraction(rawBody: string): SlackInteraction | undefined {
  const payload = new URLSearchParams(rawBody).get('payload');
  if (!payload) return undefined;
  let p: unknown;
  try {
    p = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!isObject(p) || p.type !== 'block_actions') return undefined;
  const user = p.user;
  if (!isObject(user) || typeof user.id !== 'string' || user.id === '') return undefined;
  const action = Array.isArray(p.actions) ? (p.actions[0] as unknown) : undefined;
  if (!isObject(action)) return undefined;
  const actionId = action.action_id;
  const value = action.value;
  if (typeof actionId !== 'string' || !(SLACK_ACTIONS as readonly string[]).includes(actionId))
    return undefined;
  if (typeof value !== 'string' || value === '') return undefined;
  let responseUrl: string | undefined;
  if (typeof p.response_url === 'string' && URL.canParse(p.response_url)) {
    const u = new URL(p.response_url);
    if (u.protocol === 'https:' && RESPONSE_HOSTS.has(u.hostname) && u.username === '' && u.password === '')
      responseUrl = p.response_url;
  }
  return {
    userId: user.id,
    actionId: actionId as SlackActionId,
    value,
    ...(responseUrl === undefined ? {} : { responseUrl }),
  };
}
