import { SHIPPED_PROFILES } from '../../profiles/index.ts';
import type { ObjectRef, ObjectStore } from '../adapters/s3.ts';
import { dateInZone } from '../core/dates.ts';
import { POLICY_UPLOADER, parsePolicy } from '../credit/policy.ts';
import type { PolicyChanges } from '../credit/ports.ts';
import { isKind, KINDS } from './kinds.ts';
import { type IngestDeps, ingest, runIdFor } from './pipeline.ts';
import type { IngestRun, RejectRecord } from './ports.ts';
import { canonicalProfile, isAnyKind, type Profile, parseProfile, profileForKind } from './profile.ts';
import { isReport, REJECTS_HEADER, rejectLine, rejectsNameFor, warningsNameFor } from './rejects.ts';

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
 * `profile/<name>/...` is an ERP export read through a mapping profile, and
 * `profile/<name>/<kind>/...` a file of that kind in the format of a profile for any kind.
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
    if (p && !isAnyKind(p)) return { profile: p };
    if (p) {
      const folder = parts[2] as string;
      const forKind = parts.length > 3 && isKind(folder) ? profileForKind(p, folder) : undefined;
      if (forKind) return { profile: forKind };
      return {
        error: `profile ${p.name} reads the canonical columns of any kind: put the file under profile/${p.name}/<kind>/ (${KINDS.map((k) => `${k}/`).join(', ')})`,
      };
    }
    return {
      error: `unknown mapping profile "${parts[1]}" (known: ${catalog.names().join(', ') || 'none'})`,
    };
  }
  return {
    error: `cannot tell what "${key}" holds: put it under ${KINDS.map((k) => `${k}/`).join(', ')}, profile/<profile name>/ or policy/`,
  };
}

/** Whether a profile's files yield invoices or payments, the rows a warnings report lists. */
export function yieldsReceivables(p: Profile): boolean {
  return p.outputs.some((o) => o.kind === 'invoices' || o.kind === 'payments');
}

/**
 * Where an uploaded credit policy goes once it is valid: to the approval chain, as a pending
 * policy (README "The policy"); only its last approval puts it in force.
 */
export type PolicySink = PolicyChanges;

/** Reads a whole (small) object as text. */
async function textOf(body: AsyncIterable<Uint8Array>, max: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of body) {
    size += c.length;
    if (size > max) throw new RangeError(`is larger than ${max} bytes: not a policy file`);
    chunks.push(c);
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
}

const MAX_POLICY_BYTES = 1 << 20;

/**
 * `policy/<name>.json`: a credit policy to put in force once approved. It is validated whole; an
 * invalid one is refused with every bad field's path in the rejects report (never pending). A valid
 * one is stored as pending and put to the approval chain; the policy in force stays until the last
 * level approves. The run names the request.
 */
async function setPolicyUpload(
  deps: IngestDeps,
  objects: ObjectStore,
  ref: ObjectRef,
  objectRef: string,
  runId: string,
  policies: PolicySink,
): Promise<IngestRun> {
  const started = deps.clock.now();
  const rejects = objects.reportSink(ref, rejectsNameFor(ref.key));
  rejects.write(REJECTS_HEADER);
  let problems: RejectRecord[] = [];
  const warnings: string[] = [];
  try {
    const doc: unknown = JSON.parse(await textOf((await objects.open(ref)).body, MAX_POLICY_BYTES));
    const r = parsePolicy(doc);
    if (r.ok) {
      const { id: _id, ...document } = r.policy;
      const asked = await policies.propose({
        document,
        requester: POLICY_UPLOADER,
        source: objectRef,
        key: objectRef,
      });
      if (asked.ok)
        warnings.push(
          `policy ${asked.policyId} is pending approval (${asked.transferId}); the policy in force is unchanged until the last level approves`,
          ...asked.superseded.map((t) => `it supersedes the policy change ${t}, recalled`),
        );
      else warnings.push(`${asked.problem}; nothing was asked`);
    } else problems = r.issues.map((i) => ({ line: 0, column: i.path, value: '', reason: i.message }));
  } catch (e) {
    if (!(e instanceof SyntaxError || e instanceof RangeError || e instanceof TypeError)) throw e;
    problems = [{ line: 0, column: '', value: '', reason: `the policy file ${e.message}` }];
  }
  for (const p of problems) rejects.write(rejectLine(p));
  const reason =
    problems.length > 0 ? 'the policy is not valid; the policy in force is unchanged' : undefined;
  const run: IngestRun = {
    runId,
    file: ref.key,
    objectRef,
    kinds: [],
    profile: 'policy',
    status: problems.length > 0 ? 'unreadable' : 'processed',
    reason,
    rowsRead: 0,
    accepted: {},
    acceptedTotal: 0,
    rejected: problems.length,
    warnings,
    rejectsFile: await rejects.close(),
    customersChanged: 0,
    asOf: dateInZone(started, deps.timeZone),
    startedAt: started.toISOString(),
    finishedAt: deps.clock.now().toISOString(),
  };
  await deps.store.putRun(run, problems);
  return run;
}

/** Ingests one uploaded object; reports files that cannot be used as a run of their own. */
export async function ingestUpload(
  deps: IngestDeps,
  objects: ObjectStore,
  ref: ObjectRef,
  catalog: ProfileCatalog,
  policies?: PolicySink,
): Promise<IngestRun | undefined> {
  if (isReport(ref.key)) return undefined; // our own report, written next to the upload
  const objectRef = `s3://${ref.bucket}/${ref.key}${ref.versionId ? `?versionId=${ref.versionId}` : ''}`;
  const runId = runIdFor(objectRef, deps.clock.now(), true);
  if (ref.key.startsWith('policy/') && policies)
    return setPolicyUpload(deps, objects, ref, objectRef, runId, policies);
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
    warningsReport: yieldsReceivables(target.profile)
      ? objects.reportSink(ref, warningsNameFor(ref.key))
      : undefined,
  });
}
