import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the AWS adapter tests share: the SDK clients' settings against local endpoints, the
 * endpoints' plumbing, and the SNS Query-protocol Publish parsed back into its fields.
 */
export const CLIENT_CONFIG = {
  region: 'eu-west-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  maxAttempts: 1,
};

/** Collects a request body. */
export async function bodyOf(req: AsyncIterable<unknown>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
}

export interface Published {
  action: string | null;
  topicArn: string | null;
  subject: string | null;
  message: string | null;
  /** `MessageAttributes.entry.N.{Name,Value.DataType,Value.StringValue}` back to an object. */
  attributes: Record<string, { DataType: string; StringValue: string }>;
  authorization: string | undefined;
}

/** An SNS Publish request (Query protocol, form-encoded) as the SDK sent it. */
export function parsePublish(form: URLSearchParams, headers: IncomingHttpHeaders): Published {
  const byIndex = new Map<number, Record<string, string>>();
  for (const [key, value] of form) {
    const m = /^MessageAttributes\.entry\.(\d+)\.(Name|Value\.DataType|Value\.StringValue)$/.exec(key);
    if (!m) continue;
    const n = Number(m[1]);
    byIndex.set(n, { ...byIndex.get(n), [m[2] as string]: value });
  }
  return {
    action: form.get('Action'),
    topicArn: form.get('TopicArn'),
    subject: form.get('Subject'),
    message: form.get('Message'),
    attributes: Object.fromEntries(
      [...byIndex.values()].map((a) => [
        a.Name,
        { DataType: a['Value.DataType'] as string, StringValue: a['Value.StringValue'] as string },
      ]),
    ),
    authorization: headers.authorization,
  };
}
