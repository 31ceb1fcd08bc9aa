import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { appendFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ObjectRef, ObjectStore, OpenedObject } from '../../../functions/adapters/s3.ts';
import { alertMessage, digestMessage } from '../../../functions/alerts/format.ts';
import type { IsoDate } from '../../../functions/core/dates.ts';
import type { AlertDigest, Notification } from '../../../functions/credit/alerts.ts';
import type { AlertNotifier } from '../../../functions/credit/ports.ts';
import type { ChangeNotifier, CustomersChanged, RejectsSink } from '../../../functions/ingest/ports.ts';

/**
 * Writes a report to a `.part` file of its own and renames it when complete, so readers never see
 * half a file. The part's name is unique, so nothing already in the folder (a folder named like it)
 * is in the way; a failure to write is said when the report is closed, never an unhandled error.
 */
export class FileReportSink implements RejectsSink {
  private readonly out: WriteStream;
  private readonly part: string;
  private failure: Error | undefined;
  constructor(private readonly path: string) {
    this.part = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.part`;
    this.out = createWriteStream(this.part);
    this.out.on('error', (e) => {
      this.failure ??= e;
    });
  }
  write(csvText: string): void {
    if (!this.failure) this.out.write(csvText);
  }
  async close(): Promise<string> {
    if (!this.failure)
      await new Promise<void>((ok) =>
        this.out.end((e?: Error | null) => {
          if (e) this.failure ??= e;
          ok();
        }),
      );
    try {
      if (this.failure) throw this.failure;
      await rename(this.part, this.path);
    } catch (e) {
      await rm(this.part, { force: true }).catch(() => undefined);
      throw new Error(
        `cannot write the report ${this.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    return this.path;
  }
}

/** The local inbox folder standing in for the upload bucket: keys are paths below it. */
export class InboxObjectStore implements ObjectStore {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }
  private pathOf(key: string): string {
    const p = resolve(this.root, key);
    if (!p.startsWith(this.root + sep)) throw new Error(`key ${key} leaves the inbox`);
    return p;
  }
  keyOf(path: string): string {
    return relative(this.root, path).split(sep).join('/');
  }
  async open(ref: ObjectRef): Promise<OpenedObject> {
    const path = this.pathOf(ref.key);
    const { size } = await stat(path);
    return { body: createReadStream(path, { highWaterMark: 256 * 1024 }), size };
  }
  reportSink(_ref: ObjectRef, key: string): RejectsSink {
    return new FileReportSink(this.pathOf(key));
  }
}

/** "Customers changed" messages appended to a JSON Lines outbox (what SNS carries in AWS). */
export class OutboxNotifier implements ChangeNotifier {
  constructor(
    private readonly dataDir: string,
    private readonly listeners: ((m: CustomersChanged) => void)[] = [],
  ) {}
  async customersChanged(message: CustomersChanged): Promise<void> {
    const path = join(this.dataDir, 'outbox', 'customers-changed.jsonl');
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, `${JSON.stringify(message)}\n`);
    for (const l of this.listeners) l(message);
  }
}

/** Alerts as JSON lines in the local outbox (`<data dir>/outbox/alerts.jsonl`). */
export class OutboxAlertNotifier implements AlertNotifier {
  constructor(private readonly dataDir: string) {}
  async notify(notifications: readonly Notification[], asOf: IsoDate): Promise<void> {
    await this.append(notifications.map((n) => alertMessage(n, asOf)));
  }
  /** The digest goes in the same file, as the alerts topic carries it. */
  async digest(d: AlertDigest): Promise<void> {
    await this.append([digestMessage(d)]);
  }
  private async append(messages: readonly unknown[]): Promise<void> {
    const path = join(this.dataDir, 'outbox', 'alerts.jsonl');
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, messages.map((m) => `${JSON.stringify(m)}\n`).join(''));
  }
}
