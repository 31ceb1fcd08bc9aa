import type { IsoDate } from '../core/dates.ts';
import type { AlertDigest } from '../credit/alerts.ts';
import type { Severity } from '../credit/policy.ts';
import { type AlertNotice, digestLine, digestSubject, humanize, label, truncate } from './format.ts';

/**
 * Alerts in Slack through an incoming webhook: the Block Kit message of a notification, and a
 * poster that retries what Slack asks to retry and then gives up loudly (the queue redelivers, then
 * keeps the message on its dead-letter queue). The webhook URL is a credential: it is never logged
 * and never put in an error message.
 */

/**
 * What the webhook secret holds until someone stores a real URL in it (see the README). While it
 * does, the Slack function drops alerts instead of failing them: Slack is simply not set up.
 */
export const SLACK_WEBHOOK_PLACEHOLDER = 'not-configured';

export const SEVERITY_EMOJI: Record<Severity, string> = {
  info: ':information_source:',
  warning: ':warning:',
  high: ':large_orange_circle:',
  critical: ':rotating_light:',
};

export interface SlackText {
  readonly type: 'plain_text' | 'mrkdwn';
  readonly text: string;
  readonly emoji?: boolean;
}
export interface SlackButton {
  readonly type: 'button';
  readonly text: SlackText;
  readonly url: string;
}
export type SlackBlock =
  | { readonly type: 'header'; readonly text: SlackText }
  | { readonly type: 'section'; readonly text: SlackText }
  | { readonly type: 'section'; readonly fields: readonly SlackText[] }
  | { readonly type: 'context'; readonly elements: readonly SlackText[] }
  | { readonly type: 'actions'; readonly elements: readonly SlackButton[] };

export interface SlackPayload {
  /** Fallback: what notifications and clients without blocks show. */
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

/** Block Kit limits: header 150 characters, section text 3,000, 10 fields of 2,000 each. */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FIELDS_MAX = 10;
const FIELD_MAX = 2000;

/** Slack's mrkdwn treats `&`, `<` and `>` as control characters: data never becomes a link or mention. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const mrkdwn = (text: string, max: number): SlackText => ({ type: 'mrkdwn', text: truncate(text, max) });

/** An actions block with one button opening a console page. */
function consoleButton(text: string, consoleUrl: string, path: string): SlackBlock {
  return {
    type: 'actions',
    elements: [
      { type: 'button', text: { type: 'plain_text', text }, url: `${consoleUrl.replace(/\/+$/, '')}${path}` },
    ],
  };
}

/** The Block Kit message of one notification. Pure: the same notice gives the same payload. */
export function slackMessage(n: AlertNotice, asOf: IsoDate, consoleUrl?: string): SlackPayload {
  const a = n.alert;
  const emoji = SEVERITY_EMOJI[a.severity];
  const severity = `${a.severity.charAt(0).toUpperCase()}${a.severity.slice(1)}`;
  const escalated = n.reason === 'escalated';
  const summary = escapeMrkdwn(a.summary);
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(
          `${emoji} ${severity}${escalated ? ' (escalated)' : ''} · ${a.customerId} · ${label(a.rule)}`,
          HEADER_MAX,
        ),
        emoji: true,
      },
    },
    {
      type: 'section',
      text: mrkdwn(escalated ? `Escalated to *${a.severity}*: ${summary}` : summary, SECTION_MAX),
    },
  ];
  const evidence = Object.entries(a.evidence).slice(0, FIELDS_MAX);
  if (evidence.length > 0)
    blocks.push({
      type: 'section',
      fields: evidence.map(([k, v]) =>
        mrkdwn(`*${escapeMrkdwn(label(k))}*\n${escapeMrkdwn(String(v))}`, FIELD_MAX),
      ),
    });
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(
        `Suggested action: *${humanize(a.action)}* · Policy \`${escapeMrkdwn(a.policyId)}\` · As of ${asOf}`,
        FIELD_MAX,
      ),
    ],
  });
  if (consoleUrl)
    blocks.push(
      consoleButton(
        'Open the customer',
        consoleUrl,
        `/customers/${encodeURIComponent(a.customerId)}?asOf=${asOf}`,
      ),
    );
  return {
    text: truncate(
      `${emoji} [${a.severity}] ${escapeMrkdwn(a.customerId)} ${a.rule}${escalated ? ' escalated' : ''}: ${summary}`,
      SECTION_MAX,
    ),
    blocks,
  };
}

/** Which alert messages a Slack channel gets: each notification, the daily digest, or both. */
export const SLACK_MODES = ['each', 'digest', 'both'] as const;
export type SlackMode = (typeof SLACK_MODES)[number];

/** Block Kit allows 50 blocks a message; the digest keeps a few for its header and footer. */
const DIGEST_SECTIONS_MAX = 40;

/**
 * The Block Kit message of the daily digest: the counts by severity, then the listed alerts one
 * line each (sections of up to 3,000 characters), and how many more the console has.
 */
export function slackDigestMessage(d: AlertDigest, consoleUrl?: string): SlackPayload {
  const counts = (['critical', 'high', 'warning', 'info'] as const)
    .filter((s) => d.bySeverity[s] > 0)
    .map((s) => `${SEVERITY_EMOJI[s]} ${d.bySeverity[s]} ${s}`)
    .join('   ');
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`Credit alerts digest · ${d.asOf}`, HEADER_MAX),
        emoji: true,
      },
    },
    { type: 'section', text: mrkdwn(`*${d.active} active*   ${counts}`, SECTION_MAX) },
  ];
  let chunk = '';
  const sections: string[] = [];
  for (const a of d.alerts) {
    const line = `${SEVERITY_EMOJI[a.severity]} ${escapeMrkdwn(digestLine(a))}`;
    if (chunk && chunk.length + 1 + line.length > SECTION_MAX) {
      sections.push(chunk);
      chunk = '';
    }
    chunk = chunk ? `${chunk}\n${line}` : line;
  }
  if (chunk) sections.push(chunk);
  for (const text of sections.slice(0, DIGEST_SECTIONS_MAX))
    blocks.push({ type: 'section', text: mrkdwn(text, SECTION_MAX) });
  if (d.more > 0)
    blocks.push({ type: 'context', elements: [mrkdwn(`... and ${d.more} more in the console`, FIELD_MAX)] });
  if (consoleUrl) blocks.push(consoleButton('Open the alerts', consoleUrl, '/alerts'));
  return { text: truncate(escapeMrkdwn(digestSubject(d)), SECTION_MAX), blocks };
}

export interface PostOptions {
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Per attempt. @default 5000 */
  readonly timeoutMs?: number;
  /** Attempts after the first, for 429, 5xx, timeouts and network errors. @default 2 */
  readonly retries?: number;
  /** First backoff, doubled per attempt, half of it jittered. @default 500 */
  readonly baseDelayMs?: number;
  /** Longest wait between attempts; a Retry-After beyond it fails at once (the queue retries later). @default 10000 */
  readonly maxDelayMs?: number;
}

/** Why a post failed, without the webhook URL. `status` is Slack's HTTP status when it answered. */
export class SlackPostError extends Error {
  override readonly name = 'SlackPostError';
  constructor(
    message: string,
    readonly attempts: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header.trim());
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));

/** Slack's answer text (e.g. `invalid_payload`, `no_service`), short and on one line. */
async function answerOf(res: Response): Promise<string> {
  const body = await res.text().catch(() => '');
  const line = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  return line ? `: ${line}` : '';
}

/** A failure to get an answer, described without the request URL. */
function unreachable(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; cause?: { code?: string } };
  if (err?.name === 'TimeoutError') return `no answer from Slack within ${timeoutMs} ms`;
  return `could not reach Slack (${err?.cause?.code ?? err?.name ?? 'unknown error'})`;
}

/**
 * Posts a payload to a Slack incoming webhook. Retries 429 (waiting what Retry-After says), 5xx,
 * timeouts and network errors with jittered exponential backoff; any other 4xx (a revoked
 * webhook, a payload Slack refuses) fails at once. Throws `SlackPostError` after the last attempt.
 */
export async function postToSlack(
  webhookUrl: string,
  payload: SlackPayload,
  opts: PostOptions = {},
): Promise<{ attempts: number }> {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const attempts = Math.max(0, opts.retries ?? 2) + 1;
  const base = opts.baseDelayMs ?? 500;
  const maxDelay = opts.maxDelayMs ?? 10_000;
  // fetch names an unparsable URL in its error message: refuse it here, without saying it.
  if (!URL.canParse(webhookUrl)) throw new SlackPostError('the Slack webhook URL is not a valid URL', 0);
  const body = JSON.stringify(payload);
  const backoff = (attempt: number) => {
    const d = Math.min(maxDelay, base * 2 ** (attempt - 1));
    return d / 2 + (Math.random() * d) / 2;
  };

  for (let attempt = 1; ; attempt++) {
    let failure: SlackPostError;
    let wait: number;
    try {
      const res = await doFetch(webhookUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (res.ok) {
        await res.body?.cancel().catch(() => {});
        return { attempts: attempt };
      }
      const answer = await answerOf(res);
      if (res.status === 429) {
        const after = retryAfterMs(res.headers.get('retry-after'));
        if (after !== undefined && after > maxDelay)
          throw new SlackPostError(
            `Slack is rate limiting: retry after ${Math.ceil(after / 1000)} s${answer}`,
            attempt,
            429,
          );
        wait = after ?? backoff(attempt);
      } else if (res.status >= 500) wait = backoff(attempt);
      else
        throw new SlackPostError(
          `Slack refused the message with ${res.status}${answer}`,
          attempt,
          res.status,
        );
      failure = new SlackPostError(`Slack answered ${res.status}${answer}`, attempt, res.status);
    } catch (e) {
      if (e instanceof SlackPostError) throw e;
      failure = new SlackPostError(unreachable(e, timeoutMs), attempt);
      wait = backoff(attempt);
    }
    if (attempt >= attempts)
      throw new SlackPostError(
        `${failure.message} (gave up after ${attempt} attempt${attempt === 1 ? '' : 's'})`,
        attempt,
        failure.status,
      );
    await sleep(wait);
  }
}
