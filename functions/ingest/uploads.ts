import { SHIPPED_PROFILES } from '../../profiles/index.ts';
import type { ObjectRef, ObjectStore } from '../adapters/s3.ts';
import { dateInZone } from '../core/dates.ts';
import { isKind, KINDS } from './kinds.ts';
import { type IngestDeps, ingest, runIdFor } from './pipeline.ts';
import type { IngestRun } from './ports.ts';
import { canonicalProfile, type Profile, parseProfile } from './profile.ts';
import { isRejectsReport, REJECTS_HEADER, rejectLine, rejectsNameFor } from './rejects.ts';

/** The mapping profiles an upload can name. */
export class ProfileCatalog {
  private readonly profiles = new Map<string, Profile>();

  constructor(raw: Record<string, unknown> = SHIPPED_PROFILES) {
    for (const [name, p] of Object.entries(raw)) this.profiles.set(name, parseProfile(p, `profile ${name}`));
  }

  add(p: Profile): void {
    this.profiles.set(p.name, p);
  }

  get(name: string): Profile | undefined {
    return this.profiles.get(name);
  }

  names(): string[] {
    return [...this.profiles.keys()].sort();
  }
}

/**
 * What an upload key asks for: `<kind>/...` is a canonical file of that kind,
 * `profile/<name>/...` is an ERP export read through a mapping profile.
 */
export function profileForKey(
  key: string,
  catalog: ProfileCatalog,
): { profile: Profile } | { error: string } {
  const parts = key.split('/');
  const top = parts[0] ?? '';
  if (isKind(top) && parts.length > 1) return { profile: canonicalProfile(top) };
  if (top === 'profile' && parts.length > 2) {
    const p = catalog.get(parts[1] as string);
    if (p) return { profile: p };
    return {
      error: `unknown mapping profile "${parts[1]}" (known: ${catalog.names().join(', ') || 'none'})`,
    };
  }
  return {
    error: `cannot tell what "${key}" holds: put it under ${KINDS.map((k) => `${k}/`).join(', ')} or profile/<profile name>/`,
  };
}

/** Ingests one uploaded object; reports files that cannot be used as a run of their own. */
export async function ingestUpload(
  deps: IngestDeps,
  objects: ObjectStore,
  ref: ObjectRef,
  catalog: ProfileCatalog,
): Promise<IngestRun | undefined> {
  if (isRejectsReport(ref.key)) return undefined; // our own report, written next to the upload
  const objectRef = `s3://${ref.bucket}/${ref.key}${ref.versionId ? `?versionId=${ref.versionId}` : ''}`;
  const runId = runIdFor(objectRef, deps.clock.now(), true);
  const target = profileForKey(ref.key, catalog);
  const rejects = objects.reportSink(ref, rejectsNameFor(ref.key));
  if ('error' in target) {
    const now = deps.clock.now();
    rejects.write(REJECTS_HEADER);
    rejects.write(
      rejectLine({ line: 0, column: '', value: '', reason: `the whole file was rejected: ${target.error}` }),
    );
    const run: IngestRun = {
      runId,
      file: ref.key,
      objectRef,
      kinds: [],
      profile: '',
      status: 'unreadable',
      reason: target.error,
      rowsRead: 0,
      accepted: {},
      acceptedTotal: 0,
      rejected: 1,
      warnings: [],
      rejectsFile: await rejects.close(),
      customersChanged: 0,
      asOf: dateInZone(now, deps.timeZone),
      startedAt: now.toISOString(),
      finishedAt: now.toISOString(),
    };
    await deps.store.putRun(run, [{ line: 0, column: '', value: '', reason: target.error }]);
    return run;
  }
  const obj = await objects.open(ref);
  return ingest(deps, {
    source: obj.body,
    sizeBytes: obj.size,
    fileName: ref.key,
    objectRef,
    runId,
    profile: target.profile,
    rejects,
  });
}
