import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestStore } from '../../functions/ingest/ports.ts';
import { type LocalEnv, openLocal } from '../../infra/local/runtime/index.ts';
import { books, deps, differences, loadUpload, overlappingBooks, seeded } from './ingest-books.ts';

/**
 * Uploads that overlap in time end like the same files one after the other: every customer's
 * stored summary and every stored item (invoices, payments, allocations) is the same.
 */
let together: LocalEnv;
let oneByOne: LocalEnv;
beforeAll(async () => {
  together = await openLocal({ inMemory: true });
  oneByOne = await openLocal({ inMemory: true });
});
afterAll(async () => {
  await together.close();
  await oneByOne.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The store with a random delay (0-`maxMs` ms) before each call, so the runs interleave differently each round. */
function jittered(store: IngestStore, random: () => number, maxMs: number): IngestStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        await sleep(random() * maxMs);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('uploads at once', () => {
  it('two invoice files and a payments file at once store what one after the other does (16 rounds, OVERLAP_ROUNDS for more)', async () => {
    const ROUNDS = Number(process.env.OVERLAP_ROUNDS ?? 16);
    let failed = 0;
    const found: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const uploads = overlappingBooks(1000 + round);
      for (const u of uploads) await loadUpload(deps(oneByOne.store), u);
      const random = seeded(round);
      await Promise.all(
        uploads.map(async (u) => {
          await sleep(random() * 15);
          await loadUpload(deps(jittered(together.store, random, 4)), u);
        }),
      );
      const diff = differences(await books(oneByOne.store), await books(together.store));
      if (diff.length > 0) {
        failed++;
        found.push(`round ${round}: ${diff.length} differences, e.g. ${diff[0]}`);
      }
    }
    console.info(`overlap rounds: ${ROUNDS}, rounds that differed: ${failed}`);
    expect(found).toEqual([]);
    expect(await together.store.openRuns()).toEqual([]);
  });

  it('a payments upload that writes for customers another run holds as new is not missed', async () => {
    // The run of a.csv looks its customers up (all new), then waits at its first write until the
    // payments run has stored its rows for them: it must not summarise them from its own rows only.
    const uploads = overlappingBooks(77, 6, 'HOLD');
    const [a, , p] = uploads as [(typeof uploads)[0], unknown, (typeof uploads)[0]];
    await loadUpload(deps(oneByOne.store), a);
    await loadUpload(deps(oneByOne.store), p);
    let gate!: () => void;
    const opened = new Promise<void>((r) => {
      gate = r;
    });
    let first = true;
    const held: IngestStore = new Proxy(together.store, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop !== 'write' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return async (...args: unknown[]) => {
          if (first) {
            first = false;
            await opened;
          }
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const runA = loadUpload(deps(held), a);
    while (first) await sleep(5);
    const runP = loadUpload(deps(together.store), p);
    // Open the gate once the payments run has stored its rows (its mark says recompute), or ended.
    for (let i = 0; i < 200; i++) {
      const marks = await together.store.openRuns();
      if (marks.some((m) => m.file === p.name && m.phase === 'recompute')) break;
      if (!marks.some((m) => m.file === p.name) && i > 0) break;
      await sleep(10);
    }
    gate();
    await Promise.all([runA, runP]);
    expect(differences(await books(oneByOne.store), await books(together.store))).toEqual([]);
  });
});
