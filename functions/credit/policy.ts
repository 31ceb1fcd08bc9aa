import { createHash } from 'node:crypto';
import * as z from 'zod';
import { canonicalJson } from '../core/canonical.ts';
import { isCurrency, minorDigits } from '../core/currencies.ts';
import { parseMinorUnits } from '../core/money.ts';

export { canonicalJson };

/**
 * The credit policy: how a customer is scored, rated, limited and warned about. One validated,
 * versioned JSON file (the default ships in policies/default.json and is documented in the README).
 * Every assessment and alert stores the version of the policy that produced it, so a decision can
 * be explained and replayed.
 */

export const RATINGS = ['A', 'B', 'C', 'D', 'E'] as const;
export type Rating = (typeof RATINGS)[number];
export const RISK_CLASSES = ['low', 'medium', 'high'] as const;
export type RiskClass = (typeof RISK_CLASSES)[number];
export const SEVERITIES = ['info', 'warning', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const ACTIONS = ['review', 'collect', 'hold_deliveries', 'cut_limit'] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * Numeric factors of the scorecard, each a figure of the credit file (see assess.ts). None of them
 * reads the credit limit: the rating sets the limit, so a rating that moved with the limit would
 * move the limit it set (a cut raising limit use, lowering the score, cutting again).
 */
export const NUMERIC_FACTORS = [
  'meanDaysLate',
  'weightedDaysLate',
  'sharePaidLate',
  'maxDaysPastDue',
  'overdueShare',
  'exposureToSales',
  'currentRatio',
  'quickRatio',
  'debtRatio',
  'altmanZ2',
  'historyMonths',
  'externalScore',
  'cover',
] as const;
export type NumericFactor = (typeof NUMERIC_FACTORS)[number];

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const points = finite.min(0, 'must not be negative');

/** First band whose bound holds wins: `max` (value <= max), `min` (value >= min), or neither (any value). */
const band = z
  .strictObject({ min: finite.optional(), max: finite.optional(), points })
  .refine((b) => b.min === undefined || b.max === undefined, 'a band has min or max, not both');

const numericFactor = z
  .strictObject({
    maxPoints: finite.positive('must be greater than zero'),
    /** Points when the figure cannot be computed (no data, statements that make no sense). */
    neutralPoints: points,
    bands: z.array(band).min(1, 'needs at least one band'),
  })
  .superRefine((f, ctx) => {
    if (f.neutralPoints > f.maxPoints)
      ctx.addIssue({ code: 'custom', path: ['neutralPoints'], message: 'must not exceed maxPoints' });
    f.bands.forEach((b, i) => {
      if (b.points > f.maxPoints)
        ctx.addIssue({ code: 'custom', path: ['bands', i, 'points'], message: 'must not exceed maxPoints' });
    });
    const last = f.bands[f.bands.length - 1];
    if (last && (last.min !== undefined || last.max !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['bands', f.bands.length - 1],
        message: 'the last band must have neither min nor max, so every value lands in a band',
      });
  });

const industryFactor = z
  .strictObject({
    maxPoints: finite.positive('must be greater than zero'),
    /** Industry (as the customer file writes it, compared case-insensitively) -> risk class. */
    classes: z.record(z.string().min(1), z.enum(RISK_CLASSES)),
    points: z.strictObject({ low: points, medium: points, high: points, unknown: points }),
  })
  .superRefine((f, ctx) => {
    for (const k of ['low', 'medium', 'high', 'unknown'] as const)
      if (f.points[k] > f.maxPoints)
        ctx.addIssue({ code: 'custom', path: ['points', k], message: 'must not exceed maxPoints' });
  });

/**
 * A factor that only takes points off: promises to pay broken or kept only in part (README "The
 * policy"). The score is the points earned as a share of the points available, so a factor that
 * gave a clean record its points would lift every score below 100 and move ratings that have
 * nothing to do with promises. This one adds nothing to the points available and gives 0 or less:
 * a customer that broke no promise (or never made one) is scored exactly as without it.
 */
const deductionFactor = z
  .strictObject({
    bands: z
      .array(
        z
          .strictObject({
            min: finite.optional(),
            max: finite.optional(),
            points: finite.max(0, 'must be 0 or less: this factor only takes points off'),
          })
          .refine((b) => b.min === undefined || b.max === undefined, 'a band has min or max, not both'),
      )
      .min(1, 'needs at least one band'),
  })
  .superRefine((f, ctx) => {
    const last = f.bands.length - 1;
    if (f.bands[last]?.min !== undefined || f.bands[last]?.max !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['bands', last],
        message: 'the last band must have neither min nor max, so every value lands in a band',
      });
    // The band a clean record lands in: the first that holds for 0 (points above 0 are refused above).
    const clean = f.bands.findIndex(
      (b) => (b.max === undefined || b.max >= 0) && (b.min === undefined || b.min <= 0),
    );
    if (clean >= 0 && (f.bands[clean] as { points: number }).points < 0)
      ctx.addIssue({
        code: 'custom',
        path: ['bands', clean, 'points'],
        message: 'must be 0: a customer with none broken loses nothing',
      });
  });

const level = z.strictObject({
  /** The rule fires at this level when its measure is >= `from` (or > `from` when `strict`). */
  from: finite,
  strict: z.boolean().optional(),
  severity: z.enum(SEVERITIES),
  action: z.enum(ACTIONS),
});
const levels = z
  .array(level)
  .min(1)
  .refine(
    (ls) => ls.every((l, i) => i === 0 || l.from >= (ls[i - 1] as { from: number }).from),
    'levels must be in increasing order of `from`',
  );
const enabled = z.boolean().default(true);
const positiveInt = z.number().int().positive();

const amountText = z.string().regex(/^\d+(\.\d+)?$/, 'must be a plain decimal amount such as "250000.00"');

/** The predicted-late rule's settings (README "Predicted payment dates"). */
const predictedLateRule = z
  .strictObject({
    enabled,
    days: z.number().int('must be a whole number of days').min(1).max(365).default(15),
    /** Invoices whose open amount is below this, by currency, do not count (none: every amount). */
    minAmount: z.record(z.string(), amountText).default({}),
    severity: z.enum(SEVERITIES).default('warning'),
    action: z.enum(ACTIONS).default('collect'),
  })
  .superRefine((r, ctx) => {
    for (const [ccy, text] of Object.entries(r.minAmount)) {
      if (!isCurrency(ccy)) {
        ctx.addIssue({
          code: 'custom',
          path: ['minAmount', ccy],
          message: `${ccy} is not an ISO 4217 currency code`,
        });
        continue;
      }
      const parsed = parseMinorUnits(text, minorDigits(ccy) ?? 2, { decimal: '.', thousands: '' });
      if (!parsed.ok)
        ctx.addIssue({ code: 'custom', path: ['minAmount', ccy], message: `${parsed.reason} (${ccy})` });
    }
  });

const rules = z.strictObject({
  /** Days past due of the customer's oldest overdue item. */
  daysPastDue: z.strictObject({ enabled, levels }),
  /** Overdue amount as a share of the credit limit (customers without a limit: see daysPastDue). */
  overdueAmount: z.strictObject({ enabled, levels }),
  /** Exposure / credit limit. */
  limitUse: z.strictObject({ enabled, levels }),
  /** A payment far from the customer's own usual amounts (robust z-score). */
  abnormalPayment: z.strictObject({
    enabled,
    zScore: finite.positive(),
    minHistory: positiveInt,
    lookbackDays: positiveInt,
    severity: z.enum(SEVERITIES),
    action: z.enum(ACTIONS),
  }),
  /** No payment for much longer than the customer's usual interval. */
  paymentFrequency: z.strictObject({
    enabled,
    factor: finite.positive(),
    minPayments: positiveInt,
    minGapDays: positiveInt,
    severity: z.enum(SEVERITIES),
    action: z.enum(ACTIONS),
  }),
  /** Mean days late of the recent window against the customer's own baseline before it. */
  daysLateDrift: z.strictObject({
    enabled,
    recentDays: positiveInt,
    baselineMonths: positiveInt,
    minSettled: positiveInt,
    levels,
  }),
  /** The largest fall of the rating within the last `windowDays`, in notches (a wavering rating warns once). */
  ratingDowngrade: z.strictObject({ enabled, windowDays: positiveInt.max(90), levels }),
  /** A guarantee or insurance policy that expires within `days`. */
  coverExpiring: z.strictObject({
    enabled,
    days: positiveInt,
    severity: z.enum(SEVERITIES),
    action: z.enum(ACTIONS),
  }),
  /** The latest financial statement is older than `months` (only while the customer owes money). */
  staleFinancials: z.strictObject({
    enabled,
    months: positiveInt,
    severity: z.enum(SEVERITIES),
    action: z.enum(ACTIONS),
  }),
  /** The disputed share of the open amount rose by `minRise` in `windowDays` and is at least `minShare`. */
  disputedShare: z.strictObject({
    enabled,
    windowDays: positiveInt,
    minRise: finite.positive(),
    minShare: finite.positive(),
    severity: z.enum(SEVERITIES),
    action: z.enum(ACTIONS),
  }),
  /** The customer's share of all open receivables in its currency. */
  concentration: z.strictObject({ enabled, levels }),
  /**
   * Promises to pay broken (nothing paid by the promised date plus the tolerance) or kept only in
   * part, whose grace ended in the last `windowDays`: how many. A policy written before the rule
   * gets it as shipped.
   */
  brokenPromise: z.strictObject({ enabled, windowDays: positiveInt.max(365), levels }).prefault({
    windowDays: 90,
    levels: [
      { from: 1, severity: 'warning', action: 'collect' },
      { from: 2, severity: 'high', action: 'hold_deliveries' },
    ],
  }),
  /**
   * An open invoice not yet overdue whose expected settlement date (functions/predict/model.ts,
   * from the customer's own settled history as known on the date) is more than `days` after its
   * due date. Optional, not prefaulted: a policy written before it keeps its id and gets the
   * defaults (`predictedLateOf`).
   */
  predictedLate: predictedLateRule.optional(),
});

/** The rules, in the policy's order (the schema is the one list of them). */
export const RULES = Object.keys(rules.shape) as (keyof typeof rules.shape)[];
export type RuleName = (typeof RULES)[number];

const months = z
  .number()
  .int('must be a whole number of months')
  .min(1, 'must be at least 1 month')
  .max(60, 'must be at most 60 months');

/** Periodic reviews (DOMAIN "Periodic review"): how often each risk class is re-rated, and how limits change. */
const review = z.strictObject({
  /** Months between two reviews of a customer, by its risk class. */
  cadenceMonths: z.strictObject({ high: months, medium: months, low: months }).superRefine((c, ctx) => {
    if (c.high > c.medium)
      ctx.addIssue({
        code: 'custom',
        path: ['high'],
        message: `a high-risk customer must be reviewed at least as often as a medium-risk one (${c.high} > ${c.medium} months)`,
      });
    if (c.medium > c.low)
      ctx.addIssue({
        code: 'custom',
        path: ['medium'],
        message: `a medium-risk customer must be reviewed at least as often as a low-risk one (${c.medium} > ${c.low} months)`,
      });
  }),
  /** Reviewed at the next run, whatever the date, after an alert of this severity or above opens or escalates. */
  atOnce: z.strictObject({ minSeverity: z.enum(SEVERITIES), ratingDowngrade: z.boolean() }),
  /**
   * A recommended limit above the current one is applied by the review (with a record) when the
   * increase is at most `approvalAboveShare` of the current limit and at most `approvalAbove` in
   * its currency; a larger one, or a first limit, goes through the transfer-approval chain as a
   * credit release. No raise at all at a rating of `noRaiseRatings`, with anything more than
   * `noRaiseAboveDaysPastDue` days past due, or while an alert of `noRaiseAtSeverity` or above is active.
   */
  increases: z.strictObject({
    approvalAboveShare: finite.min(0, 'must not be negative').max(10, 'must be at most 10 (1000%)'),
    approvalAbove: z.record(z.string(), amountText),
    noRaiseRatings: z.array(z.enum(RATINGS)).default(['E']),
    noRaiseAboveDaysPastDue: z.number().int().min(0).default(60),
    noRaiseAtSeverity: z.enum(SEVERITIES).default('high'),
  }),
  /**
   * A cut is applied at once only when it leaves the limit at or above the exposure (rounded up)
   * and takes at most `approvalAboveShare` of the current limit; a deeper one is a limit decrease
   * on the approval chain.
   */
  cuts: z.strictObject({ approvalAboveShare: finite.min(0).max(1).default(0.5) }).prefault({}),
  /** A run that would ask for more than `batchAbove` approvals asks once, for the whole batch. */
  approvals: z.strictObject({ batchAbove: z.number().int().min(0).default(10) }).prefault({}),
});

/** How a dunning level reaches the customer (README "Collections"). */
export const DUNNING_CHANNELS = ['email', 'phone', 'visit', 'slack'] as const;
export type DunningChannel = (typeof DUNNING_CHANNELS)[number];
/** What a level does: a reminder, a credit hold, or the hand-over to legal or an agency. */
export const DUNNING_ACTIONS = ['remind', 'hold', 'legal'] as const;
export type DunningAction = (typeof DUNNING_ACTIONS)[number];

const dunningLevel = z.strictObject({
  /** Its name, as the worklist and the reminder's subject say it ("friendly", "final"). */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a short lowercase name such as "friendly"'),
  /** Reached when the customer's oldest undisputed overdue item is this many days past due. */
  afterDays: z.number().int('must be a whole number of days').min(1, 'must be at least 1 day').max(3650),
  channel: z.enum(DUNNING_CHANNELS),
  action: z.enum(DUNNING_ACTIONS),
  /** The message template (email and Slack) or the task's instructions (phone, visit). */
  template: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a template name such as "friendly"'),
});
export type DunningLevel = z.infer<typeof dunningLevel>;

/** The reminder emails written (functions/collections/reminder.ts): an emailed level names one. */
export const EMAIL_TEMPLATES = ['friendly', 'firm', 'final'] as const;

/** A ladder of levels: days rising, names unique, the hold and the legal hand-over at most once each and last. */
const dunningLevels = z
  .array(dunningLevel)
  .min(1, 'needs at least one level')
  .superRefine((ls, ctx) => {
    const names = new Set<string>();
    ls.forEach((l, i) => {
      if (names.has(l.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${l.name}" names two levels` });
      names.add(l.name);
      const before = ls[i - 1];
      if (before && l.afterDays <= before.afterDays)
        ctx.addIssue({
          code: 'custom',
          path: [i, 'afterDays'],
          message: `must be after the level before ("${before.name}" at ${before.afterDays} days)`,
        });
      if (before && l.action === 'remind' && before.action !== 'remind')
        ctx.addIssue({
          code: 'custom',
          path: [i, 'action'],
          message: `a reminder cannot follow the ${before.action} level "${before.name}"`,
        });
      if (before?.action === 'legal')
        ctx.addIssue({ code: 'custom', path: [i], message: 'nothing follows the legal hand-over' });
      if (l.channel === 'email' && !(EMAIL_TEMPLATES as readonly string[]).includes(l.template))
        ctx.addIssue({
          code: 'custom',
          path: [i, 'template'],
          message: `an emailed level names a reminder email: ${EMAIL_TEMPLATES.join(', ')}`,
        });
      if (l.action !== 'remind' && ls.slice(0, i).some((x) => x.action === l.action))
        ctx.addIssue({ code: 'custom', path: [i, 'action'], message: `only one level may ${l.action}` });
    });
  });

/** The factors of the collections worklist's score (README "Collections"), in the policy's order. */
export const WORKLIST_FACTORS = [
  'amountOverdue',
  'daysPastDue',
  'rating',
  'brokenPromises',
  'expectedWait',
] as const;
export type WorklistFactor = (typeof WORKLIST_FACTORS)[number];

const weight = finite.min(0, 'must not be negative');
const share = finite.min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1');

/**
 * The order of the collectors' worklist (README "Collections"): each factor mapped to a part from
 * 0 to 1 by its rule and cap, the score the weighted parts on a scale of 0 to 100. Amounts compare
 * in `currency`, converted with the rates on file as of the day, and the cap is in it. A policy
 * written before the score gets it as shipped.
 */
const worklistScore = z
  .strictObject({
    currency: z.string().refine(isCurrency, 'is not an ISO 4217 currency code').default('USD'),
    /** The demand (undisputed overdue less unapplied cash) over `cap`, at most 1. */
    amountOverdue: z
      .strictObject({ weight: weight.default(40), cap: amountText.default('500000.00') })
      .prefault({}),
    /** Days past due of the oldest undisputed overdue item over `capDays`, at most 1. */
    daysPastDue: z
      .strictObject({
        weight: weight.default(30),
        capDays: z
          .number()
          .int('must be a whole number of days')
          .min(1, 'must be at least 1 day')
          .max(3650, 'must be at most 3650 days')
          .default(180),
      })
      .prefault({}),
    /** The part of each rating of the latest assessment made by the day, and of a customer not rated by then. */
    rating: z
      .strictObject({
        weight: weight.default(15),
        parts: z
          .strictObject({
            A: share.default(0),
            B: share.default(0.25),
            C: share.default(0.5),
            D: share.default(0.75),
            E: share.default(1),
            unrated: share.default(1),
          })
          .prefault({}),
      })
      .prefault({}),
    /** Promises broken or kept only in part whose grace ended in the last `windowDays`, over `capCount`. */
    brokenPromises: z
      .strictObject({
        weight: weight.default(15),
        capCount: z
          .number()
          .int('must be a whole number')
          .min(1, 'must be at least 1')
          .max(20, 'must be at most 20')
          .default(2),
        windowDays: z
          .number()
          .int('must be a whole number of days')
          .min(1, 'must be at least 1 day')
          .max(365, 'must be at most 365 days')
          .default(90),
      })
      .prefault({}),
    /**
     * How long the demand is expected to wait before it is paid, from the customer's own settled
     * invoices (functions/predict/model.ts), over `capDays`; money the customer's history cannot
     * place counts at the cap. Optional, and off (weight 0) when absent: a policy written before it
     * keeps its order and its id; the shipped policy turns it on.
     */
    expectedWait: z
      .strictObject({
        weight: weight.default(15),
        capDays: z
          .number()
          .int('must be a whole number of days')
          .min(1, 'must be at least 1 day')
          .max(3650, 'must be at most 3650 days')
          .default(30),
      })
      .optional(),
  })
  .superRefine((sc, ctx) => {
    if (WORKLIST_FACTORS.every((f) => scoreFactorOf(sc, f).weight === 0))
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'every weight is 0: at least one factor must count',
      });
    if (isCurrency(sc.currency)) {
      const cap = parseMinorUnits(sc.amountOverdue.cap, minorDigits(sc.currency) ?? 2, {
        decimal: '.',
        thousands: '',
      });
      if (!cap.ok)
        ctx.addIssue({
          code: 'custom',
          path: ['amountOverdue', 'cap'],
          message: `${cap.reason} (${sc.currency})`,
        });
      else if (cap.value <= 0)
        ctx.addIssue({ code: 'custom', path: ['amountOverdue', 'cap'], message: 'must be more than zero' });
    }
    // A worse rating never weighs less than a better one.
    RATINGS.forEach((r, i) => {
      const better = RATINGS[i - 1];
      if (better && sc.rating.parts[r] < sc.rating.parts[better])
        ctx.addIssue({
          code: 'custom',
          path: ['rating', 'parts', r],
          message: `must not be below ${better}'s part (${sc.rating.parts[better]})`,
        });
    });
  })
  .prefault({});
export type WorklistScorePolicy = z.infer<typeof worklistScore>;

/** The expected wait's settings when a policy leaves it out: off. */
export const EXPECTED_WAIT_OFF = { weight: 0, capDays: 30 } as const;

/** A factor's settings in the score, the expected wait's as `EXPECTED_WAIT_OFF` when left out. */
export function scoreFactorOf<F extends WorklistFactor>(
  sc: Pick<WorklistScorePolicy, WorklistFactor>,
  f: F,
): NonNullable<WorklistScorePolicy[F]> {
  return (sc[f] ?? EXPECTED_WAIT_OFF) as NonNullable<WorklistScorePolicy[F]>;
}

/**
 * The collection plan (README "Collections"): when to chase an overdue customer, how and with
 * what, escalating from a friendly reminder to a credit hold and the hand-over to legal.
 */
const collections = z
  .strictObject({
    levels: dunningLevels,
    /** Another ladder for a risk class (chased sooner, or later), instead of `levels`. */
    byRiskClass: z.partialRecord(z.enum(RISK_CLASSES), dunningLevels).default({}),
    /** No message while the demand (undisputed overdue less unapplied cash) is below this, by currency. */
    minDemand: z.record(z.string(), amountText).default({}),
    /** Days at least between two messages to a customer. */
    minGapDays: z.number().int().min(0).max(365),
    /** How the collectors' worklist is ordered: a score of the factors below (README "Collections"). */
    score: worklistScore,
    /** Promises to pay: how late a payment still keeps one, and how far ahead one may be. */
    promises: z
      .strictObject({
        toleranceDays: z.number().int().min(0).max(30).default(3),
        maxDays: z.number().int().min(1).max(365).default(60),
      })
      .prefault({}),
    /**
     * The customer portal a reminder links to: the days its link works from the reminder's day,
     * and who answers a dispute opened there (the customer's collector when one is assigned, else
     * `disputeOwner`) within how many days.
     */
    portal: z
      .strictObject({
        linkDays: z.number().int().min(1).max(90).default(30),
        answerDays: z.number().int().min(1).max(90).default(10),
        disputeOwner: z.string().trim().min(1).max(128).default('credit control'),
      })
      .prefault({}),
    /**
     * Who the reminders come from and how to pay: one line each (bank, IBAN, reference). In the
     * policy so that changing where customers are told to pay goes through the policy's approval
     * (a changed bank account in a reminder is a classic fraud).
     */
    creditor: z
      .strictObject({
        name: z.string().trim().max(128).default(''),
        remittance: z.array(z.string().trim().min(1).max(200)).max(12).default([]),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    for (const [ccy, text] of Object.entries(c.minDemand)) {
      if (!isCurrency(ccy)) {
        ctx.addIssue({
          code: 'custom',
          path: ['minDemand', ccy],
          message: `${ccy} is not an ISO 4217 currency code`,
        });
        continue;
      }
      const parsed = parseMinorUnits(text, minorDigits(ccy) ?? 2, { decimal: '.', thousands: '' });
      if (!parsed.ok)
        ctx.addIssue({ code: 'custom', path: ['minDemand', ccy], message: `${parsed.reason} (${ccy})` });
    }
  });
export type CollectionsPolicy = z.infer<typeof collections>;

/**
 * Credit checks of orders (README "Credit checks"): how long an approval reserves the order's
 * amount, which orders count in the exposure (those shipping within the horizon), and what holds
 * or asks for prepayment. Absent in a policy written before checks: these defaults.
 */
const creditCheck = z.strictObject({
  /** An approved order's amount is reserved this many days (then it counts no more until checked again). */
  reserveDays: z
    .number()
    .int('must be a whole number of days')
    .min(1, 'must be at least 1 day')
    .max(90)
    .default(7),
  /** Open orders shipping more than this many days after the check's day do not count yet (SAP's horizon). */
  horizonDays: z.number().int('must be a whole number of days').min(0).max(365).default(30),
  /** Risk classes that ship against prepayment or a guarantee only (`approve-prepay`). */
  prepayRiskClasses: z.array(z.enum(RISK_CLASSES)).max(3).default(['high']),
  /** Hold when the oldest open item is more than this many days past due. */
  overdueHoldDays: z.number().int('must be a whole number of days').min(0).max(3650).default(60),
  /** Hold while an active alert of one of these rules is at this severity or worse. */
  holdAlerts: z
    .strictObject({
      rules: z.array(z.enum(RULES as [RuleName, ...RuleName[]])).max(40),
      minSeverity: z.enum(SEVERITIES),
    })
    .default({ rules: ['daysPastDue', 'overdueAmount', 'limitUse', 'brokenPromise'], minSeverity: 'high' }),
  /**
   * A held order not released within this many days of being held expires (leaves the hold queue;
   * functions/checks/holds.ts). Optional, not prefaulted: a policy written before it keeps its id.
   */
  holdDays: z.number().int('must be a whole number of days').min(1).max(365).optional(),
  /** An order release approved on the approval chain holds at most this many days. Optional as holdDays. */
  releaseMaxDays: z.number().int('must be a whole number of days').min(1).max(365).optional(),
});
export type CreditCheckPolicy = z.infer<typeof creditCheck>;
const CREDIT_CHECK_DEFAULTS: CreditCheckPolicy = creditCheck.parse({});
/**
 * The policy's credit check section, or the defaults for a policy written before it. Optional in
 * the document (not prefaulted) so that the id of every policy written before checks stays the
 * same: a prefault would add the section to the hashed content and change every stored id.
 */
export const creditCheckOf = (p: Pick<PolicyDocument, 'creditCheck'>): CreditCheckPolicy =>
  p.creditCheck ?? CREDIT_CHECK_DEFAULTS;

export type PredictedLatePolicy = z.infer<typeof predictedLateRule>;
const PREDICTED_LATE_DEFAULTS: PredictedLatePolicy = predictedLateRule.parse({});
/**
 * The predicted-late rule's settings, or the defaults (on, 15 days, every amount, warning, collect)
 * for a policy written before the rule: optional in the document so that no stored policy's id changes.
 */
export const predictedLateOf = (p: {
  readonly rules: Pick<PolicyDocument['rules'], 'predictedLate'>;
}): PredictedLatePolicy => p.rules.predictedLate ?? PREDICTED_LATE_DEFAULTS;

/** The smallest open amount of an invoice the predicted-late rule counts, minor units of `currency` (0: every amount). */
export function predictedLateMinAmount(r: PredictedLatePolicy, currency: string): number {
  const text = r.minAmount[currency];
  if (text === undefined) return 0;
  const parsed = parseMinorUnits(text, minorDigits(currency) ?? 2, { decimal: '.', thousands: '' });
  return parsed.ok ? parsed.value : 0;
}

/** Held orders expire after this many days by default (`creditCheck.holdDays`). */
export const DEFAULT_HOLD_DAYS = 30;
/** An order release holds at most this many days by default (`creditCheck.releaseMaxDays`). */
export const DEFAULT_RELEASE_MAX_DAYS = 30;
/** The hold queue's days: how long an order may wait held, how long a release may hold. */
export function holdPolicyOf(p: Pick<PolicyDocument, 'creditCheck'>): {
  readonly holdDays: number;
  readonly releaseMaxDays: number;
} {
  const cc = creditCheckOf(p);
  return {
    holdDays: cc.holdDays ?? DEFAULT_HOLD_DAYS,
    releaseMaxDays: cc.releaseMaxDays ?? DEFAULT_RELEASE_MAX_DAYS,
  };
}

export const policySchema = z
  .strictObject({
    /** Set by the people who own the policy; the stored version adds a hash of the content. */
    version: z.string().min(1).max(64),
    description: z.string().optional(),
    scorecard: z.strictObject({
      /** Payment behaviour is measured over invoices settled in the last N months. */
      behaviourMonths: positiveInt,
      factors: z.strictObject({
        ...Object.fromEntries(NUMERIC_FACTORS.map((f) => [f, numericFactor.optional()])),
        industryRisk: industryFactor.optional(),
        /** Absent in a policy written before it: promises do not move the score (the alert rule still counts them). */
        brokenPromises: deductionFactor.optional(),
      } as Record<NumericFactor, z.ZodOptional<typeof numericFactor>> & {
        industryRisk: z.ZodOptional<typeof industryFactor>;
        brokenPromises: z.ZodOptional<typeof deductionFactor>;
      }),
    }),
    /** Lowest score of each rating; below D's is E. */
    ratings: z
      .strictObject({ A: finite, B: finite, C: finite, D: finite })
      .refine((r) => r.A > r.B && r.B > r.C && r.C > r.D, 'thresholds must fall from A to D'),
    riskClass: z.strictObject({
      A: z.enum(RISK_CLASSES),
      B: z.enum(RISK_CLASSES),
      C: z.enum(RISK_CLASSES),
      D: z.enum(RISK_CLASSES),
      E: z.enum(RISK_CLASSES),
    }),
    limit: z.strictObject({
      /**
       * Months of the customer's average monthly credit sales a rating allows on top of its payment
       * terms: limit = monthly sales x (terms in months + these months). 0: no unsecured credit
       * (prepayment or cover only).
       */
      monthsOfSales: z.strictObject({
        A: finite.min(0),
        B: finite.min(0),
        C: finite.min(0),
        D: finite.min(0),
        E: finite.min(0),
      }),
      /** Average monthly sales over the months observed, at most this many (from the first invoice). */
      salesWindowMonths: positiveInt.max(60, 'must be at most 60 months').default(12),
      /** Fewer months of history than this is a thin history: its recommendation never cuts on its own. */
      minHistoryMonths: positiveInt.max(60, 'must be at most 60 months').default(3),
      /** Payment terms assumed for a customer whose master data names none. */
      defaultTermsDays: z.number().int().min(0).max(365).default(30),
      /**
       * Credit insurance pays nothing for debts overdue longer than the insurer's maximum extension
       * period: those are left out of the insured exposure.
       */
      insurerExtensionDays: z.number().int().min(0).max(365).default(60),
      /** At most this share of the latest annual revenue (when statements in the credit currency exist). */
      maxShareOfRevenue: finite.positive().max(1),
      /** Absolute caps per rating, by currency, as decimal text in major units. */
      caps: z.record(
        z.string().refine(isCurrency, 'is not an ISO 4217 currency code'),
        z.strictObject({ A: amountText, B: amountText, C: amountText, D: amountText, E: amountText }),
      ),
      /** Round the recommendation down (and the exposure floor of a cut up) to this many significant digits of major units. */
      significantDigits: positiveInt.max(6),
      /** A recommendation within this share of the current limit keeps the current limit. */
      keepWithin: finite.min(0).max(1),
    }),
    rules,
    review,
    /** Absent in a policy written before collections: nobody is chased (README "Collections"). */
    collections: collections.optional(),
    /** Credit checks of orders; a policy written before them gets the defaults (`creditCheckOf`). */
    creditCheck: creditCheck.optional(),
  })
  .superRefine((p, ctx) => {
    for (const [ccy, caps] of Object.entries(p.limit.caps)) {
      const digits = minorDigits(ccy) ?? 2;
      for (const r of RATINGS) {
        const parsed = parseMinorUnits(caps[r], digits, { decimal: '.', thousands: '' });
        if (!parsed.ok)
          ctx.addIssue({
            code: 'custom',
            path: ['limit', 'caps', ccy, r],
            message: `${parsed.reason} (${ccy})`,
          });
      }
    }
    for (const [ccy, text] of Object.entries(p.review.increases.approvalAbove)) {
      if (!isCurrency(ccy)) {
        ctx.addIssue({
          code: 'custom',
          path: ['review', 'increases', 'approvalAbove', ccy],
          message: `${ccy} is not an ISO 4217 currency code`,
        });
        continue;
      }
      const parsed = parseMinorUnits(text, minorDigits(ccy) ?? 2, { decimal: '.', thousands: '' });
      if (!parsed.ok)
        ctx.addIssue({
          code: 'custom',
          path: ['review', 'increases', 'approvalAbove', ccy],
          message: `${parsed.reason} (${ccy})`,
        });
    }
  });

export type PolicyDocument = z.infer<typeof policySchema>;

/** A validated policy with its stored version: `<version>+<first 8 hex of the content's SHA-256>`. */
export interface Policy extends PolicyDocument {
  readonly id: string;
}

const RETIRED_LIMIT_USE =
  'is no longer a scorecard factor: a rating that reads the credit limit moves the limit it sets (each cut raising limit use and lowering the next limit); score exposureToSales (the exposure in months of sales) instead. The limitUse alert rule stays.';

export type PolicyResult =
  | { ok: true; policy: Policy }
  | { ok: false; issues: { path: string; message: string }[] };

/** Validates a policy document; every problem comes back with the path of its field. */
export function parsePolicy(doc: unknown): PolicyResult {
  const r = policySchema.safeParse(doc);
  if (!r.success)
    return {
      ok: false,
      issues: r.error.issues.map((i) => {
        const path = i.path.map(String).join('.') || '(top)';
        return i.code === 'unrecognized_keys' && path === 'scorecard.factors' && i.keys.includes('limitUse')
          ? { path: `${path}.limitUse`, message: RETIRED_LIMIT_USE }
          : { path, message: i.message };
      }),
    };
  return { ok: true, policy: { ...r.data, id: policyId(r.data) } };
}

export function policyId(doc: PolicyDocument): string {
  return `${doc.version}+${createHash('sha256').update(canonicalJson(doc)).digest('hex').slice(0, 8)}`;
}

/**
 * Who asks for a policy uploaded under policy/ (README "The policy"): an upload names no person of
 * the approval policy, so any approver of the policy-change levels may decide it.
 */
export const POLICY_UPLOADER = 'policy-upload';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, high: 2, critical: 3 };

/** The policy in force: the one stored last (validated when it was set), else the shipped default. */
export function policyInForce(stored: { document: unknown } | undefined, fallback: unknown): Policy {
  if (stored) {
    const r = parsePolicy(stored.document);
    if (r.ok) return r.policy;
  }
  const d = parsePolicy(fallback);
  if (!d.ok) throw new Error(`the shipped default policy is invalid: ${JSON.stringify(d.issues)}`);
  return d.policy;
}

/** The SHA-256 (hex) of a policy document's canonical JSON: what the audit trail holds of it. */
export function policyHash(doc: PolicyDocument): string {
  return createHash('sha256').update(canonicalJson(doc)).digest('hex');
}

/** One field a policy change changes: its path, the value in force and the new one (JSON text; absent: none). */
export interface PolicyFieldChange {
  readonly path: string;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

/**
 * What changes from the policy in force to a new one, field by field (leaves of the documents,
 * arrays by position, in path order): what the approvers read. The `id` is left out.
 */
export function policyDiff(from: PolicyDocument, to: PolicyDocument): PolicyFieldChange[] {
  const leaves = (v: unknown, at: string, out: Map<string, string>) => {
    if (v === undefined) return;
    if (v !== null && typeof v === 'object' && Object.keys(v).length > 0) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>))
        if (!(at === '' && k === 'id')) leaves(x, at === '' ? k : `${at}.${k}`, out);
      return;
    }
    out.set(at, JSON.stringify(v));
  };
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  leaves(from, '', a);
  leaves(to, '', b);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths
    .filter((p) => a.get(p) !== b.get(p))
    .map((path) => ({ path, from: a.get(path), to: b.get(path) }));
}
