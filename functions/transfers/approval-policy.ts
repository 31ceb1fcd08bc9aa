import * as z from 'zod';
import { isCurrency, minorDigits } from '../core/currencies.ts';
import type { IsoDate } from '../core/dates.ts';
import { isoDateOrNull } from '../core/dates.ts';
import { formatMoney, parseMinorUnits } from '../core/money.ts';
import type { RiskClass } from '../credit/policy.ts';
import type { TransferRequest } from './request.ts';

/**
 * Who approves a transfer (DOMAIN "Multi-level approval"): a ladder of levels; the amount picks
 * how many of them a transfer climbs, the customer's risk class and the risk gate's flags add
 * more. Each level has approvers and how many of them must approve (k of n). A person away names
 * a delegate. No single person can push money out: the requester never approves, and one person
 * approves at most one level of a transfer.
 */

export const GATE_FLAGS = [
  'openAlerts',
  'overdueBalance',
  'abnormalAmount',
  'newBeneficiary',
  'duplicate',
  'overLimit',
  'aboveUnappliedCash',
  'creditHold',
] as const;
export type GateFlag = (typeof GATE_FLAGS)[number];

const isoDate = z.string().refine((s) => isoDateOrNull(s) !== null, 'must be a YYYY-MM-DD date');
const amountText = z.string().regex(/^\d+(\.\d+)?$/, 'must be decimal text in major units, e.g. "10000.00"');
const personId = z.string().trim().min(1).max(64);

const person = z.strictObject({
  name: z.string().min(1),
  email: z.email(),
  /** Slack member id, for the Approve/Reject message. */
  slackId: z
    .string()
    .regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack member id such as U024BE7LH')
    .optional(),
  /** Absences: while away, the delegate approves in this person's place. */
  away: z
    .array(z.strictObject({ from: isoDate, to: isoDate, delegate: personId }))
    .default([])
    .refine((a) => a.every((x) => x.from <= x.to), 'each absence must end on or after it starts'),
});

/** One rung of a ladder: a name, who may approve, how many of them must (k of n). */
const levelSpec = z.strictObject({
  name: z.string().min(1),
  approvers: z.array(personId).min(1),
  /** How many distinct approvers of the level must approve (k of n). */
  required: z.number().int().min(1).default(1),
});
type LevelSpec = z.output<typeof levelSpec>;

export const approvalPolicySchema = z
  .strictObject({
    version: z.string().min(1),
    /** Amount bands per currency: the first band whose `upTo` the amount does not exceed gives the levels. */
    bands: z.record(
      z.string().refine(isCurrency, 'is not an ISO 4217 currency code'),
      z
        .array(z.strictObject({ upTo: amountText.optional(), levels: z.number().int().min(1) }))
        .min(1)
        .refine(
          (b) => b.at(-1)?.upTo === undefined,
          'the last band must have no upTo, so every amount lands in a band',
        ),
    ),
    /** Levels a bank account change needs, whatever the amount (none moves). */
    bankAccountChangeLevels: z.number().int().min(1),
    /** Levels added by the customer's risk class and by each gate flag raised. */
    raise: z.strictObject({
      riskClass: z.strictObject({
        low: z.number().int().min(0),
        medium: z.number().int().min(0),
        high: z.number().int().min(0),
      }),
      flags: z.partialRecord(z.enum(GATE_FLAGS), z.number().int().min(0)),
    }),
    /** The ladder, lowest first. */
    levels: z.array(levelSpec).min(1),
    /**
     * A change of the credit policy (README "The policy"): its own levels, all of them climbed,
     * whatever any amount or risk. Absent: the ladder's top two levels (`policyChangeLevels`).
     */
    policyChange: z.strictObject({ levels: z.array(levelSpec).min(1) }).optional(),
    people: z.record(personId, person),
    /** The risk gate's settings. */
    gate: z
      .strictObject({
        /** A beneficiary account first approved fewer days ago than this is still "new". */
        coolingOffDays: z.number().int().min(0).default(30),
        /** A request with the same customer, amount and account within this many days is a duplicate. */
        duplicateDays: z.number().int().min(1).default(30),
        /** |robust z| above this against the customer's earlier transfers flags the amount. */
        abnormalZ: z.number().positive().default(3.5),
        /** Earlier approved transfers needed before the amount is judged against them. */
        minHistory: z.number().int().min(2).default(5),
        /** Active alerts at or above this severity flag the request. */
        alertSeverity: z.enum(['info', 'warning', 'high', 'critical']).default('warning'),
        /**
         * A refund or overpayment return above the customer's unapplied cash (or in another
         * currency, so that it cannot be compared) is refused when requested, nothing stored;
         * false: it is flagged (`aboveUnappliedCash`) and the approvers decide.
         */
        refuseAboveUnappliedCash: z.boolean().default(false),
      })
      .prefault({}),
    /** How long a level waits before a reminder, and how many reminders before it expires. */
    reminders: z
      .strictObject({
        everySeconds: z.number().int().min(1).default(86_400),
        max: z.number().int().min(0).default(2),
        /** People told (without a link) when a level is still unanswered at its last reminder. */
        escalateTo: z.array(personId).default([]),
      })
      .prefault({}),
  })
  .superRefine((p, ctx) => {
    const ladders: [(string | number)[], LevelSpec[]][] = [[['levels'], p.levels]];
    if (p.policyChange) ladders.push([['policyChange', 'levels'], p.policyChange.levels]);
    for (const [at, ladder] of ladders)
      ladder.forEach((l, i) => {
        if (l.required > l.approvers.length)
          ctx.addIssue({
            code: 'custom',
            path: [...at, i, 'required'],
            message: `exceeds the ${l.approvers.length} approvers of the level`,
          });
        l.approvers.forEach((a, j) => {
          if (!p.people[a])
            ctx.addIssue({
              code: 'custom',
              path: [...at, i, 'approvers', j],
              message: `"${a}" is not in people`,
            });
        });
      });
    p.reminders.escalateTo.forEach((a, j) => {
      if (!p.people[a])
        ctx.addIssue({
          code: 'custom',
          path: ['reminders', 'escalateTo', j],
          message: `"${a}" is not in people`,
        });
    });
    for (const [id, who] of Object.entries(p.people))
      who.away.forEach((a, j) => {
        if (!p.people[a.delegate])
          ctx.addIssue({
            code: 'custom',
            path: ['people', id, 'away', j, 'delegate'],
            message: `"${a.delegate}" is not in people`,
          });
        if (a.delegate === id)
          ctx.addIssue({
            code: 'custom',
            path: ['people', id, 'away', j, 'delegate'],
            message: 'cannot be the person away',
          });
      });
    for (const [ccy, bands] of Object.entries(p.bands)) {
      let last = -1;
      bands.forEach((b, i) => {
        if (b.upTo === undefined) return;
        const v = parseMinorUnits(b.upTo, minorDigits(ccy) ?? 2, { decimal: '.', thousands: '' });
        if (!v.ok)
          ctx.addIssue({ code: 'custom', path: ['bands', ccy, i, 'upTo'], message: `${v.reason} (${ccy})` });
        else if (v.value <= last)
          ctx.addIssue({
            code: 'custom',
            path: ['bands', ccy, i, 'upTo'],
            message: 'must be above the band before',
          });
        else last = v.value;
      });
    }
  });

export type ApprovalPolicy = z.output<typeof approvalPolicySchema>;

export type ApprovalPolicyResult =
  | { readonly ok: true; readonly policy: ApprovalPolicy }
  | { readonly ok: false; readonly issues: { readonly path: string; readonly message: string }[] };

export function parseApprovalPolicy(doc: unknown): ApprovalPolicyResult {
  const r = approvalPolicySchema.safeParse(doc);
  if (r.success) return { ok: true, policy: r.data };
  return {
    ok: false,
    issues: r.error.issues.map((i) => ({
      path: i.path.map(String).join('.') || '(top)',
      message: i.message,
    })),
  };
}

/**
 * The person of the policy a text names (README "Approvals": people are identities): their id,
 * email or Slack member id, trimmed and compared case-insensitively. Undefined when nobody in the
 * policy answers to it, or when it is ambiguous (two people answering to it).
 */
export function resolvePerson(policy: ApprovalPolicy, text: string): string | undefined {
  const t = text.trim().toLowerCase();
  if (t === '') return undefined;
  const found = new Set<string>();
  for (const [id, p] of Object.entries(policy.people))
    if (id.toLowerCase() === t || p.email.toLowerCase() === t || p.slackId?.toLowerCase() === t)
      found.add(id);
  return found.size === 1 ? [...found][0] : undefined;
}

/** The sentence an unknown person is refused with (a request's requester, who marks a transfer paid). */
export function unknownPerson(text: string): string {
  return `"${text.trim()}" is not a person of the approval policy: give your id, email or Slack id as the policy lists it`;
}

/** What the chain is built from besides the request. */
export interface ChainInputs {
  readonly riskClass: RiskClass | undefined;
  readonly flags: readonly GateFlag[];
  /** The day the request is made: absences are looked up on it. */
  readonly today: IsoDate;
}

export interface ChainApprover {
  readonly id: string;
  readonly name: string;
  readonly email: string;
  readonly slackId?: string | undefined;
  /** Set when this person approves in place of someone away. */
  readonly onBehalfOf?: string | undefined;
}

export interface ChainLevel {
  /** 1, 2, ... */
  readonly level: number;
  readonly name: string;
  readonly required: number;
  readonly approvers: readonly ChainApprover[];
}

export type Chain =
  | { readonly ok: true; readonly levels: readonly ChainLevel[]; readonly why: readonly string[] }
  | { readonly ok: false; readonly problem: string; readonly why: readonly string[] };

/** How many levels of the ladder a request climbs, and why. */
export function levelsNeeded(
  req: Pick<TransferRequest, 'type' | 'amount' | 'currency'>,
  inputs: Pick<ChainInputs, 'riskClass' | 'flags'>,
  policy: ApprovalPolicy,
): { levels: number; why: string[] } | { problem: string } {
  const why: string[] = [];
  let levels: number;
  if (req.type === 'bank_account_change') {
    levels = policy.bankAccountChangeLevels;
    why.push(`a bank account change needs ${levels} level${levels === 1 ? '' : 's'}`);
  } else {
    const bands = policy.bands[req.currency];
    if (!bands) return { problem: `the approval policy has no amount bands in ${req.currency}` };
    const digits = minorDigits(req.currency) ?? 2;
    const upTo = (b: { upTo?: string | undefined }) =>
      b.upTo === undefined ? undefined : parseMinorUnits(b.upTo, digits, { decimal: '.', thousands: '' });
    const band = bands.find((b) => {
      const v = upTo(b);
      return v === undefined || (v.ok && req.amount <= v.value);
    });
    levels = band?.levels ?? 1;
    const bound = band && upTo(band);
    why.push(
      band?.upTo !== undefined
        ? `amount up to ${bound?.ok ? formatMoney(bound.value, req.currency) : `${band.upTo} ${req.currency}`}: ${levels} level${levels === 1 ? '' : 's'}`
        : `amount above every band: ${levels} level${levels === 1 ? '' : 's'}`,
    );
  }
  if (inputs.riskClass) {
    const add = policy.raise.riskClass[inputs.riskClass];
    if (add > 0) {
      levels += add;
      why.push(`customer risk class ${inputs.riskClass}: +${add}`);
    }
  } else {
    const add = policy.raise.riskClass.high;
    if (add > 0) {
      levels += add;
      why.push(`customer not rated yet, treated as high risk: +${add}`);
    }
  }
  for (const f of inputs.flags) {
    const add = policy.raise.flags[f] ?? 0;
    if (add > 0) {
      levels += add;
      why.push(`gate flag ${f}: +${add}`);
    }
  }
  const max = policy.levels.length;
  if (levels > max) {
    why.push(`capped at the ${max} levels of the ladder`);
    levels = max;
  }
  return { levels, why };
}

/** The person who approves for `id` on `today`: the delegate while `id` is away (one hop). */
function standIn(policy: ApprovalPolicy, id: string, today: IsoDate): { id: string; onBehalfOf?: string } {
  const away = policy.people[id]?.away.find((a) => a.from <= today && today <= a.to);
  if (!away) return { id };
  const delegateAway = policy.people[away.delegate]?.away.some((a) => a.from <= today && today <= a.to);
  return delegateAway ? { id: '' } : { id: away.delegate, onBehalfOf: id };
}

/**
 * The approval chain of a request: its levels with the people who may approve each, after
 * delegation, without the requester. Refused when a level cannot gather its `required` approvals,
 * or when the levels together cannot be completed by distinct people (one person approves at most
 * one level): checked as a matching of people to approval slots.
 */
export function approvalChain(req: TransferRequest, inputs: ChainInputs, policy: ApprovalPolicy): Chain {
  const need = levelsNeeded(req, inputs, policy);
  if ('problem' in need) return { ok: false, problem: need.problem, why: [] };
  return chainOf(policy.levels.slice(0, need.levels), req.requester, inputs.today, policy, need.why);
}

/**
 * The levels a credit policy change climbs: the approval policy's `policyChange.levels`, else
 * the ladder's top two levels (the whole ladder when it has fewer), and why.
 */
export function policyChangeLevels(policy: ApprovalPolicy): { levels: LevelSpec[]; why: string } {
  if (policy.policyChange)
    return {
      levels: policy.policyChange.levels,
      why: `a credit policy change climbs the ${plural(policy.policyChange.levels.length, 'level')} of the approval policy's policyChange`,
    };
  const levels = policy.levels.slice(-2);
  return {
    levels,
    why: `the approval policy names no policyChange levels: a credit policy change climbs the ladder's top ${plural(levels.length, 'level')} (${levels.map((l) => l.name).join(', ')})`,
  };
}

/** The chain of a credit policy change: every level of `policyChangeLevels`, without the requester. */
export function policyChangeChain(requester: string, today: IsoDate, policy: ApprovalPolicy): Chain {
  const { levels, why } = policyChangeLevels(policy);
  return chainOf(levels, requester, today, policy, [why]);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The levels of a ladder with the people who may approve each, after delegation, without the
 * requester; refused when a level cannot gather its approvals or the levels cannot be completed
 * by distinct people.
 */
function chainOf(
  specs: readonly LevelSpec[],
  requesterText: string,
  today: IsoDate,
  policy: ApprovalPolicy,
  why: readonly string[],
): Chain {
  const levels: ChainLevel[] = [];
  // The requester as a person of the policy, however the request spelled them.
  const requester = resolvePerson(policy, requesterText) ?? requesterText;
  for (const [i, spec] of specs.entries()) {
    const seen = new Set<string>();
    const approvers: ChainApprover[] = [];
    for (const id of spec.approvers) {
      const who = standIn(policy, id, today);
      if (who.id === '' || who.id === requester || seen.has(who.id)) continue;
      seen.add(who.id);
      const p = policy.people[who.id];
      if (!p) continue;
      approvers.push({
        id: who.id,
        name: p.name,
        email: p.email,
        slackId: p.slackId,
        onBehalfOf: who.onBehalfOf,
      });
    }
    if (approvers.length < spec.required)
      return {
        ok: false,
        problem: `level ${i + 1} (${spec.name}) needs ${spec.required} approver${spec.required === 1 ? '' : 's'} but has ${approvers.length} who may approve this request (the requester and people away without a present delegate are left out)`,
        why,
      };
    levels.push({ level: i + 1, name: spec.name, required: spec.required, approvers });
  }
  if (!distinctPeopleSuffice(levels))
    return {
      ok: false,
      problem: 'the levels cannot be completed by different people: someone would have to approve twice',
      why,
    };
  return { ok: true, levels, why };
}

/** Whether every level's `required` slots can be filled with no person in two slots (bipartite matching). */
function distinctPeopleSuffice(levels: readonly ChainLevel[]): boolean {
  const slots: string[][] = [];
  for (const l of levels) for (let k = 0; k < l.required; k++) slots.push(l.approvers.map((a) => a.id));
  const holder = new Map<string, number>();
  const tryAssign = (slot: number, visited: Set<string>): boolean => {
    for (const person of slots[slot] as string[]) {
      if (visited.has(person)) continue;
      visited.add(person);
      const current = holder.get(person);
      if (current === undefined || tryAssign(current, visited)) {
        holder.set(person, slot);
        return true;
      }
    }
    return false;
  };
  return slots.every((_, s) => tryAssign(s, new Set()));
}
