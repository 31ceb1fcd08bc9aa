import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The plumbing of the few local HTTP endpoints the AWS adapter tests still run beside moto
 * (test/moto.ts): a Slack incoming webhook (not AWS), and a Step Functions endpoint for the answers
 * moto cannot be made to give (TaskTimedOut, TaskDoesNotExist, throttling, a 5xx).
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
