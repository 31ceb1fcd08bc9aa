import { KINDS } from '../../../functions/ingest/kinds.ts';
import { TRANSFER_TYPES } from '../../../functions/transfers/request.ts';

/**
 * What `sentinel help`, `sentinel help CMD` and `CMD --help` print: every command's usage, its
 * options one line each, and one example that works on the demo book (`npm start` loads it).
 * A usage error names the topic here that helps (`see \`sentinel help transfer paid\``).
 */
export interface CommandHelp {
  /** "customers", "transfer paid": what follows `sentinel`. */
  readonly name: string;
  /** What follows the name on the usage line. */
  readonly args: string;
  /** One line: what the command does. */
  readonly summary: string;
  readonly options: readonly (readonly [string, string])[];
  /** One command line that works on the demo book. */
  readonly example: string;
  /** A few lines more, where the summary is not enough. */
  readonly notes?: readonly string[];
  /** Reads or writes the store (takes --data-dir). */
  readonly store?: false;
}

const JSON_OPT = ['--json', 'print JSON instead of a table'] as const;
const AS_OF = ['--as-of YYYY-MM-DD', 'as the books stood that day (default: today)'] as const;
const LIMIT = ['--limit N', 'print the first N only, and say N of how many'] as const;
const BY = ['--by NAME', 'who does it (default: $USER)'] as const;
const NOTE = ['--note TEXT', 'why, kept with the alert'] as const;

export const COMMANDS: readonly CommandHelp[] = [
  {
    name: 'start',
    args: '[--port 8787] [--inbox DIR] [--in-memory] [--no-demo]',
    summary: 'run the product: the store, the upload inbox, the console and the early-warning rules',
    options: [
      ['--port N', 'the console port (default 8787; 0 picks a free one)'],
      ['--inbox DIR', `the upload folder, files go under DIR/<kind>/ (default ./inbox)`],
      ['--in-memory', 'keep nothing on disk (gone when stopped)'],
      ['--no-demo', 'do not load the demo book into an empty store'],
    ],
    example: 'sentinel start --port 8788',
    notes: [
      `Kinds: ${KINDS.join(', ')}; profile/<name>/ for an ERP export, policy/ for a credit policy.`,
      'Alerts are evaluated at start, after every upload and daily at 05:00 (SENTINEL_TIME_ZONE).',
    ],
  },
  {
    name: 'ingest',
    args: 'FILE... [--kind K] [--profile P] [--reports DIR] [--json]',
    summary: 'load finance files (CSV, JSON Lines, .xlsx); rejected rows go to a report',
    options: [
      ['--kind K', `one of ${KINDS.join(', ')} (default: the file's folder name)`],
      ['--profile P', 'a shipped mapping profile (`sentinel profiles`) or a profile .json file'],
      ['--reports DIR', 'where the rejects and warnings reports go (default: beside each file)'],
      JSON_OPT,
    ],
    example: 'sentinel ingest inbox/customers/demo-customers.csv --reports /tmp/reports',
    notes: [
      'Exit 0 when processed (even with rejected rows), 1 when a file could not be read, 2 on bad usage.',
    ],
  },
  {
    name: 'customers',
    args: '[--as-of YYYY-MM-DD] [--json]',
    summary: 'the receivables table: open, overdue and aging per customer',
    options: [AS_OF, JSON_OPT],
    example: 'sentinel customers',
  },
  {
    name: 'customer',
    args: 'ID [--as-of YYYY-MM-DD] [--explain] [--json]',
    summary: "one customer's open items and aging; --explain: its score, limit and early warnings",
    options: [AS_OF, ['--explain', 'score factors, limit reasoning, early warnings, next review'], JSON_OPT],
    example: 'sentinel customer C1004 --explain',
    notes: [
      "Each open invoice's expected payment date, its 80% interval (P10-P90) and reason, and the cash expected in 7, 30 and 90 days (JSON: `predictions`); the segment is every customer's history as of the day.",
    ],
  },
  {
    name: 'forecast',
    args: '[--as-of YYYY-MM-DD] [--report CCY] [--json] [--csv FILE]',
    summary: 'the cash-in forecast: expected receipts per week for the next 13 weeks, with its band',
    options: [
      AS_OF,
      ['--report CCY', 'the reporting currency (default: the currency most customers are in)'],
      JSON_OPT,
      [
        '--csv FILE',
        'also write the weeks as CSV: week, from, to, currency, expected, low, high, at_p10, at_p90',
      ],
    ],
    example: 'sentinel forecast --csv /tmp/forecast.csv',
    notes: [
      "Week 1 is the 7 days after the as-of date. Each open invoice's open amount counts in the week of its expected payment date; the band runs from the smallest to the largest of the expected total, the total if every invoice came on its P10 date and the total if every invoice came on its P90 date.",
      'Other currencies are converted with the latest rate on file dated on or before the as-of date (the pair, its inverse, or a cross rate through USD, EUR or CNY); a currency with no rate is left out of the converted figures and named.',
      'An overdue invoice further past due than any settled invoice of the customer or the book is in no week ("not counted on").',
      'An as-of date in the past adds what came in each week ended since, and every invoice on its due date, with both mean weekly errors.',
    ],
  },
  {
    name: 'runs',
    args: '[--limit N] [--json]',
    summary: 'ingest runs, newest first',
    options: [LIMIT, JSON_OPT],
    example: 'sentinel runs --limit 5',
  },
  {
    name: 'profiles',
    args: '',
    summary: 'the shipped mapping profiles and the kinds each reads',
    options: [],
    example: 'sentinel profiles',
    store: false,
  },
  {
    name: 'evaluate',
    args: '[--as-of YYYY-MM-DD] [--json]',
    summary: 'rate every customer and run the early-warning rules (another day: a what-if)',
    options: [
      ['--as-of YYYY-MM-DD', 'today (default) stores and tells the alerts; another day stores nothing'],
      JSON_OPT,
    ],
    example: 'sentinel evaluate',
  },
  {
    name: 'alerts',
    args: '[--status S] [--severity V] [--limit N] [--json]',
    summary: 'every alert, most severe first (resolved: newest first)',
    options: [
      ['--status S', 'active (default), open, acknowledged, snoozed or resolved'],
      ['--severity V', 'critical, high, warning or info'],
      LIMIT,
      JSON_OPT,
    ],
    example: 'sentinel alerts --severity critical',
  },
  {
    name: 'alerts ack',
    args: 'ID [--by NAME] [--note TEXT]',
    summary: 'acknowledge an alert; ID is <customer>/<rule>',
    options: [BY, NOTE],
    example: 'sentinel alerts ack C1004/daysPastDue --note "called their AP team"',
  },
  {
    name: 'alerts snooze',
    args: 'ID --until YYYY-MM-DD [--by NAME] [--note TEXT]',
    summary: 'snooze an alert until a day; ID is <customer>/<rule>',
    options: [['--until YYYY-MM-DD', 'the day it wakes up (required)'], BY, NOTE],
    example: 'sentinel alerts snooze C1004/daysPastDue --until 2099-01-31',
  },
  {
    name: 'alerts resolve',
    args: 'ID [--by NAME] [--note TEXT]',
    summary: 'resolve an alert; ID is <customer>/<rule>',
    options: [BY, NOTE],
    example: 'sentinel alerts resolve C1004/daysPastDue --note "paid in full"',
  },
  {
    name: 'policy',
    args: '[show] [--json]',
    summary:
      'the credit policy in force, and the policy changes pending approval (where each stands, its diff)',
    options: [JSON_OPT],
    example: 'sentinel policy',
  },
  {
    name: 'policy check',
    args: 'FILE',
    summary: 'validate a credit policy file; names each bad field',
    options: [],
    example: 'sentinel policy check policies/default.json',
    store: false,
  },
  {
    name: 'policy set',
    args: 'FILE --by WHO [--json]',
    summary:
      'put a credit policy to the approval chain (needs npm start): pending until its last level approves; an invalid file is refused, nothing asked',
    options: [['--by WHO', 'who sets it: a person of the approval policy, who may not approve it'], JSON_OPT],
    example: 'sentinel policy set policies/default.json --by rita',
  },
  {
    name: 'backtest',
    args: '--from YYYY-MM-DD --to YYYY-MM-DD [--policy FILE] [--json]',
    summary: 'replay the rules day by day: alerts per rule, days of warning before 60 days overdue',
    options: [
      ['--from YYYY-MM-DD', 'the first day (required)'],
      ['--to YYYY-MM-DD', 'the last day (required)'],
      ['--policy FILE', 'a candidate policy file (default: the policy in force)'],
      JSON_OPT,
    ],
    example: 'sentinel backtest --from 2026-01-01 --to 2026-06-30 --policy policies/default.json',
    notes: ['A progress line shows on a terminal; nothing extra when piped.'],
  },
  {
    name: 'collections',
    args: '[--as-of YYYY-MM-DD] [--all] [--collector WHO] [--json]',
    summary:
      'the collection plan as of a day: each overdue customer, the level reached, what is done today or why not, the next step',
    options: [
      ['--as-of YYYY-MM-DD', 'the day (default: today)'],
      ['--all', 'every customer, also those with nothing overdue'],
      ['--collector WHO', "one collector's list: the customers assigned to them"],
      JSON_OPT,
    ],
    example: 'sentinel collections --as-of 2026-12-31',
    notes: [
      "Writes nothing. Highest score first (the policy's collections.score: amount overdue, days past due, rating, broken promises), each customer's points under the table; equal scores: acted on today, then the highest level, the oldest debt.",
    ],
  },
  {
    name: 'collections promise',
    args: 'CUSTOMER --amount A --by YYYY-MM-DD --recorded-by WHO [--via call|email|visit|console|portal] [--note TEXT] [--json]',
    summary:
      'record a promise to pay: the chase is held while it is pending, and it is rated kept, partial or broken',
    options: [
      [
        '--amount A',
        'what the customer promised, in its credit currency (at most what is open and undisputed)',
      ],
      ['--by YYYY-MM-DD', "the day it will have paid by (not in the past; within the plan's maxDays)"],
      ['--recorded-by WHO', 'who took the promise (on the audit trail)'],
      ['--via V', 'where it was made (default: call)'],
      ['--note TEXT', 'what was said'],
      JSON_OPT,
    ],
    example: 'sentinel collections promise C1002 --amount 12000.00 --by 2026-12-18 --recorded-by anna',
    notes: [
      'Made as of today. The same promise recorded twice is one. A payment within the tolerance after the date still keeps it.',
    ],
  },
  {
    name: 'collections promises',
    args: 'CUSTOMER [--as-of YYYY-MM-DD] [--json]',
    summary:
      "a customer's promises to pay, rated as of a day: pending, kept, partial or broken, with what was paid",
    options: [['--as-of YYYY-MM-DD', 'the day (default: today)'], JSON_OPT],
    example: 'sentinel collections promises C1002',
  },
  {
    name: 'collections dispute',
    args: 'CUSTOMER INVOICE --reason TEXT --owner WHO --answer-by YYYY-MM-DD --by WHO [--amount A] [--line TEXT] [--note TEXT] [--json]',
    summary:
      'open a dispute on an open invoice, or a part of it: what it contests is left out of every demand until it is resolved',
    options: [
      ['--reason TEXT', 'what the customer contests'],
      ['--owner WHO', 'who answers it'],
      ['--answer-by YYYY-MM-DD', 'when an answer is due'],
      ['--by WHO', 'who opens it (on the audit trail)'],
      [
        '--amount A',
        "the part contested, in the invoice's currency (at most what is open on it today); the rest is chased as usual (default: all that is open)",
      ],
      ['--line TEXT', 'which line of the invoice (at most 200 characters)'],
      JSON_OPT,
    ],
    example:
      'sentinel collections dispute C1002 INV-50012 --reason "two pallets damaged" --amount 340.00 --line "pallets 3 and 4" --owner sales-anna --answer-by 2026-12-20 --by anna',
    notes: [
      'A paid invoice, one not on file or one disputed already is refused. Opened twice at once: one dispute.',
      'A payment that later leaves less open than the part disputed leaves only what is open disputed.',
    ],
  },
  {
    name: 'collections resolve',
    args: 'CUSTOMER INVOICE --outcome credit-note|customer-pays|written-off --by WHO [--note TEXT] [--json]',
    summary:
      "resolve an invoice's open dispute: from today it is chased again unless it was credited or written off",
    options: [
      ['--outcome O', 'credit-note, customer-pays or written-off'],
      ['--by WHO', 'who resolves it (on the audit trail)'],
      JSON_OPT,
    ],
    example: 'sentinel collections resolve C1002 INV-50012 --outcome customer-pays --by anna',
  },
  {
    name: 'collections disputes',
    args: 'CUSTOMER [--as-of YYYY-MM-DD] [--json]',
    summary:
      "a customer's disputes: open ones first with their age, whether the answer is late and the part disputed, then resolved ones",
    options: [['--as-of YYYY-MM-DD', 'the day (default: today)'], JSON_OPT],
    example: 'sentinel collections disputes C1002',
  },
  {
    name: 'credit-check',
    args: 'CUSTOMER --order ID --amount A --currency C [--ship YYYY-MM-DD] [--stage order|delivery|invoice] [--channel NAME] [--json]',
    summary:
      'may this order ship on credit? approve, approve-prepay, hold or block, with the reasons, the exposure, the limit and the headroom; an approval reserves the amount',
    options: [
      ['--order ID', "the order's id: checked again with the same amount it counts once"],
      ['--amount A', "the order's amount, e.g. 12,000.00"],
      [
        '--currency C',
        'its ISO 4217 currency (converted to the credit currency with the latest rate on file)',
      ],
      ['--ship YYYY-MM-DD', 'the requested ship date, not in the past (default: today)'],
      ['--stage S', 'order (default), delivery or invoice'],
      ['--channel NAME', 'the sales channel asking (default: cli)'],
      ['--by WHO', 'who asks, on the audit trail (default: the channel)'],
      JSON_OPT,
    ],
    example: 'sentinel credit-check C1001 --order SO-1001 --amount 12,000.00 --currency EUR --channel web',
    notes: ['Exit 0 whatever the outcome; 1 when refused (each bad field named, nothing written).'],
  },
  {
    name: 'credit-check cancel',
    args: 'CUSTOMER --order ID [--by WHO] [--json]',
    summary:
      "release a cancelled order's reservation (and its hold): a new check of it is a new check against the headroom; the customer's held orders are checked again",
    options: [['--order ID', "the order's id"], BY, JSON_OPT],
    example: 'sentinel credit-check cancel C1001 --order SO-1001 --by rita',
  },
  {
    name: 'credit-check recheck',
    args: '[CUSTOMER...] [--json]',
    summary:
      "check every held order again as of today (or the given customers'): approved now, reserved and released with what cleared; still held, today's reasons; held longer than creditCheck.holdDays, expired",
    options: [JSON_OPT],
    example: 'sentinel credit-check recheck C1002',
    notes: ['`npm start` does it after each evaluation run. Exit 1 when a re-check failed.'],
  },
  {
    name: 'credit-check holds',
    args: '[--json]',
    summary:
      'the hold queue, oldest first: customer, order, amount, state, held since, reasons, exposure and limit',
    options: [JSON_OPT],
    example: 'sentinel credit-check holds',
  },
  {
    name: 'credit-check release',
    args: 'CUSTOMER --order ID --reason TEXT --until YYYY-MM-DD --by PERSON [--json]',
    summary:
      'ask the approval chain to ship a held order anyway, until a day: approved at every level, a check of it approves (RELEASED_BY_APPROVAL) until then',
    options: [
      ['--order ID', "the held order's id"],
      ['--reason TEXT', 'why it should ship (3-300 characters), for the approvers'],
      ['--until YYYY-MM-DD', 'the last day it may ship: from today to creditCheck.releaseMaxDays ahead'],
      ['--by PERSON', 'who asks: a person of the approval policy (id, email or Slack id)'],
      JSON_OPT,
    ],
    example:
      'sentinel credit-check release C1002 --order SO-1001 --reason "key account, pays next week" --until 2026-12-10 --by rita',
    notes: [
      'Needs the product running (npm start): its workflow engine runs the approvals. Asked again with the same fields, the same request. Exit 1 when refused (each bad field named, nothing stored).',
    ],
  },
  {
    name: 'credit-check backtest',
    args: '[--from YYYY-MM-DD] [--to YYYY-MM-DD] [--policy FILE] [--json]',
    summary:
      'replay the credit check over history, every invoice an order on its issue date: how many held, blocked or sent to prepay, whether the held then paid late, and the money shipped that was then paid late',
    options: [
      ['--from YYYY-MM-DD', 'the first order day (default: the first invoice date)'],
      ['--to YYYY-MM-DD', 'the last order day (default: the last invoice date)'],
      ['--policy FILE', 'a candidate policy file (default: the policy in force)'],
      JSON_OPT,
    ],
    example: 'sentinel credit-check backtest',
    notes: [
      "A customer without master data is taken as on file on the policy's default terms; without a limit, its limit is the one recommended the day before.",
    ],
  },
  {
    name: 'application file',
    args: 'FILE.json [--json]',
    summary:
      'file a credit application for a new customer (or one on file without a limit): rated by the scorecard with what it has, its initial limit sent to the approval chain',
    options: [JSON_OPT],
    example: 'sentinel application file nova.json',
    notes: [
      'FILE.json: customerId, name, country, currency, registrationNo, requestedLimit, filedBy; optional industry, paymentTermsDays, financials, score, tradeReferences, legalDisputes (README "Credit applications").',
      'Needs the product running (npm start): its workflow engine runs the approvals. Exit 1 when refused (each bad field named, nothing stored).',
    ],
  },
  {
    name: 'application list',
    args: '[--json]',
    summary:
      "every customer's latest credit application: state, amount asked, rating and recommended initial limit",
    options: [JSON_OPT],
    example: 'sentinel application list',
  },
  {
    name: 'application show',
    args: 'ID [--json]',
    summary:
      'one credit application: the scorecard, how the initial limit was built, what is missing, the approval',
    options: [JSON_OPT],
    example: 'sentinel application show APP-NOVA-1',
  },
  {
    name: 'collections release',
    args: 'CUSTOMER --by WHO --reason TEXT [--json]',
    summary:
      "lift a customer's credit hold (put on by the plan's hold level): a person, with a reason, on the audit trail",
    options: [['--by WHO', 'who lifts it'], ['--reason TEXT', 'why'], JSON_OPT],
    example: 'sentinel collections release C1004 --by fiona --reason "paid 60% and a plan for the rest"',
  },
  {
    name: 'collections handover',
    args: 'CUSTOMER [--as-of YYYY-MM-DD] [--json]',
    summary:
      "the file the plan's legal level handed to legal or the agency: demand, items, steps, promises, as that day",
    options: [['--as-of YYYY-MM-DD', 'the latest made by this day (default: today)'], JSON_OPT],
    example: 'sentinel collections handover C1004',
  },
  {
    name: 'collections withdraw',
    args: 'CUSTOMER --by WHO --reason TEXT [--json]',
    summary: "withdraw a customer's open hand-over to legal: a person, with a reason, on the audit trail",
    options: [['--by WHO', 'who withdraws it'], ['--reason TEXT', 'why'], JSON_OPT],
    example: 'sentinel collections withdraw C1004 --by fiona --reason "settled in full"',
  },
  {
    name: 'collections assign',
    args: 'CUSTOMER --to WHO --by WHO [--json]',
    summary: "assign (or reassign) who works a customer's collections, from today; on the audit trail",
    options: [['--to WHO', 'the collector'], ['--by WHO', 'who assigns it'], JSON_OPT],
    example: 'sentinel collections assign C1004 --to chen --by fiona',
    notes: ["sentinel collections --collector chen then lists chen's customers."],
  },
  {
    name: 'collections log',
    args: 'CUSTOMER --outcome O --by WHO [--channel phone|visit] [--note TEXT] [--json]',
    summary:
      'log a call or a visit and what came of it (reached, no-answer, left-message, wrong-contact, promised, disputed, refused)',
    options: [
      ['--outcome O', 'what came of it'],
      ['--by WHO', 'who called or visited'],
      ['--channel C', 'phone (default) or visit'],
      ['--note TEXT', 'what was said'],
      JSON_OPT,
    ],
    example: 'sentinel collections log C1004 --outcome promised --by chen --note "pays half on Friday"',
  },
  {
    name: 'collections backtest',
    args: '--from YYYY-MM-DD --to YYYY-MM-DD [--policy FILE] [--json]',
    summary:
      'replay the collection plan day by day: messages per level, and how many were paid within a week anyway',
    options: [
      ['--from YYYY-MM-DD', 'the first day (required)'],
      ['--to YYYY-MM-DD', 'the last day (required)'],
      ['--policy FILE', 'a candidate policy file (default: the policy in force)'],
      JSON_OPT,
    ],
    example: 'sentinel collections backtest --from 2026-01-01 --to 2026-06-30',
  },
  {
    name: 'collections run',
    args: '[--as-of YYYY-MM-DD] [--dry-run] [--json]',
    summary:
      "take the day's steps of the collection plan: one reminder per customer (email with its statement), calls, visits, holds and hand-overs as tasks",
    options: [
      ['--as-of YYYY-MM-DD', 'the day (default: today)'],
      ['--dry-run', 'say what would be done; claim and send nothing'],
      JSON_OPT,
    ],
    example: 'sentinel collections run --dry-run',
    notes: [
      'Each step is done once per customer, level and day: a second run sends nothing again, and a run retried after a crash finishes what the first claimed.',
      'Reminders are .eml files under outbox/mail/ in the data dir; tasks are under outbox/collections/. Exits 1 when a step failed (it is tried again by the next run).',
      'The daily run (npm start) does this after each daily evaluation.',
    ],
  },
  {
    name: 'transfer request',
    args: '--customer ID --type T --amount A --currency C --beneficiary-name N --beneficiary-account ACC --reason TEXT --requester ID [--json]',
    summary: 'ask for a transfer (needs `sentinel start`); prints its id and the approval links',
    options: [
      ['--customer ID', 'the customer it is for'],
      ['--type T', TRANSFER_TYPES.join(', ')],
      ['--amount A', 'in major units, 1250.00'],
      ['--currency C', 'ISO 4217 code'],
      ['--beneficiary-name N', 'who receives it'],
      ['--beneficiary-account ACC', 'their IBAN or account number'],
      ['--reason TEXT', 'why (at least 3 characters)'],
      ['--requester ID', 'who asks; never one of its approvers'],
      JSON_OPT,
    ],
    example:
      'sentinel transfer request --customer C1001 --type refund --amount 1250.00 --currency EUR --beneficiary-name "Acme GmbH" --beneficiary-account "DE89 3704 0044 0532 0130 00" --reason "double payment" --requester rita',
  },
  {
    name: 'transfer show',
    args: 'ID [--json]',
    summary: 'a transfer with its gate checks, levels and every approval',
    options: [JSON_OPT],
    example: 'sentinel transfer show TR-...   (the id `transfer request` printed)',
  },
  {
    name: 'transfer recall',
    args: 'ID --by REQUESTER',
    summary: 'recall a pending transfer: every outstanding approval link is void',
    options: [['--by REQUESTER', 'the requester (required)']],
    example: 'sentinel transfer recall TR-... --by rita',
  },
  {
    name: 'transfer retry',
    args: 'ID --by WHO',
    summary: 'run a failed transfer again from where it failed: nobody who approved is asked again',
    options: [['--by WHO', 'a person of the approval policy (required)']],
    example: 'sentinel transfer retry TR-... --by paula',
  },
  {
    name: 'transfer paid',
    args: 'ID --by WHO [--on YYYY-MM-DD]',
    summary: 'mark an approved transfer paid, once the money left',
    options: [
      ['--by WHO', 'who marks it (required)'],
      ['--on YYYY-MM-DD', 'the day it was paid (default: today)'],
    ],
    example: 'sentinel transfer paid TR-... --by paula',
  },
  {
    name: 'approvals',
    args: '[--json]',
    summary: 'approvals waiting for a decision, oldest first',
    options: [JSON_OPT],
    example: 'sentinel approvals',
  },
  {
    name: 'audit verify',
    args: '[--json]',
    summary: 'prove the audit trail intact against its key, head and anchors, or name each finding',
    options: [JSON_OPT],
    example: 'sentinel audit verify',
  },
  {
    name: 'audit head',
    args: '[--json]',
    summary: "print the trail's head (seq and hash), to keep elsewhere",
    options: [JSON_OPT],
    example: 'sentinel audit head',
  },
  {
    name: 'metrics',
    args: '[--json]',
    summary: 'what the local handlers measured: rows, latencies, alerts, approvals, reviews',
    options: [JSON_OPT],
    example: 'sentinel metrics',
  },
  {
    name: 'review run',
    args: '[--as-of YYYY-MM-DD] [--dry-run] [--resume RUN] [--json]',
    summary: 're-rate the customers due and adjust their limits (needs `sentinel start`)',
    options: [
      ['--as-of YYYY-MM-DD', 'the review day (default: today)'],
      ['--dry-run', 'show what it would change and change nothing (no need for start)'],
      ['--resume RUN', 'carry on a run that did not finish'],
      JSON_OPT,
    ],
    example: 'sentinel review run --dry-run',
  },
  {
    name: 'review show',
    args: 'RUN [--limit N] [--json]',
    summary: 'a review run with every customer it reviewed',
    options: [LIMIT, JSON_OPT],
    example: 'sentinel review show RUN   (a run id from `sentinel review runs`)',
  },
  {
    name: 'review runs',
    args: '[--limit N] [--json]',
    summary: 'the review runs, newest first',
    options: [LIMIT, JSON_OPT],
    example: 'sentinel review runs',
  },
  {
    name: 'help',
    args: '[COMMAND [SUBCOMMAND]]',
    summary: 'this list, or one command with its options and an example',
    options: [],
    example: 'sentinel help transfer paid',
    store: false,
  },
];

const byName = new Map(COMMANDS.map((c) => [c.name, c]));
/** Commands made of subcommands only: `sentinel help transfer` lists them. */
const GROUPS = ['transfer', 'review', 'audit', 'application'];
const ALIASES: Record<string, string> = { 'policy show': 'policy' };

/** The help topic for a command line: "transfer paid" for `transfer paid X --by`, else its first word. */
export function topicOf(argv: readonly string[]): string | undefined {
  const [cmd, sub] = argv;
  if (cmd === undefined || cmd.startsWith('-')) return undefined;
  const two = sub && !sub.startsWith('-') ? `${cmd} ${sub}` : undefined;
  if (two && (byName.has(two) || ALIASES[two])) return ALIASES[two] ?? two;
  if (byName.has(cmd) || GROUPS.includes(cmd)) return cmd;
  return undefined;
}

export const isTopic = (name: string) => byName.has(name) || GROUPS.includes(name) || name in ALIASES;

const pad = (rows: readonly (readonly [string, string])[], indent = '  ') => {
  const w = Math.max(0, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${indent}${a.padEnd(w)}  ${b}`);
};

/** One command's page: usage, summary, options one line each, an example. */
export function commandHelp(topic: string): string {
  const name = ALIASES[topic] ?? topic;
  const c = byName.get(name);
  if (!c) {
    const subs = COMMANDS.filter((x) => x.name.startsWith(`${name} `));
    return [
      `Usage: sentinel ${name} <${subs.map((s) => s.name.split(' ')[1]).join('|')}> ...`,
      '',
      ...pad(subs.map((s) => [s.name, s.summary])),
      '',
      `Each one's options and an example: sentinel help ${name} <${subs.map((s) => s.name.split(' ')[1]).join('|')}>`,
    ].join('\n');
  }
  const options: (readonly [string, string])[] = [...c.options];
  if (c.store !== false) options.push(['--data-dir DIR', 'the data dir (default ./.sentinel)']);
  options.push(['-h, --help', 'this help']);
  return [
    `Usage: sentinel ${c.name}${c.args ? ` ${c.args}` : ''}`,
    '',
    c.summary.charAt(0).toUpperCase() + c.summary.slice(1),
    ...(c.notes ?? []),
    '',
    'Options:',
    ...pad(options),
    '',
    'Example (on the demo book):',
    `  ${c.example}`,
  ].join('\n');
}

const SECTIONS: readonly (readonly [string, readonly string[]])[] = [
  ['Run the product', ['start']],
  ['Receivables', ['ingest', 'customers', 'customer', 'forecast', 'runs', 'profiles']],
  [
    'Credit risk',
    [
      'evaluate',
      'alerts',
      'alerts ack',
      'alerts snooze',
      'alerts resolve',
      'policy',
      'policy check',
      'policy set',
      'backtest',
      'credit-check',
      'credit-check cancel',
      'credit-check recheck',
      'credit-check holds',
      'credit-check release',
      'credit-check backtest',
      'application file',
      'application list',
      'application show',
    ],
  ],
  [
    'Collections',
    [
      'collections',
      'collections run',
      'collections promise',
      'collections promises',
      'collections dispute',
      'collections resolve',
      'collections disputes',
      'collections release',
      'collections handover',
      'collections withdraw',
      'collections assign',
      'collections log',
      'collections backtest',
    ],
  ],
  [
    'Transfers',
    [
      'transfer request',
      'transfer show',
      'transfer recall',
      'transfer retry',
      'transfer paid',
      'approvals',
      'audit verify',
      'audit head',
    ],
  ],
  ['Reviews and ops', ['review run', 'review show', 'review runs', 'metrics']],
];

/** `sentinel help`: every command in one line each, and where the rest is. */
export function overview(): string {
  const lines = [
    'credit-sentinel: receivables, aging and credit risk, offline or on AWS',
    '',
    'Usage: sentinel <command> [options]',
  ];
  for (const [title, names] of SECTIONS) {
    lines.push('', `${title}:`);
    lines.push(...pad(names.map((n) => [n, (byName.get(n) as CommandHelp).summary])));
  }
  lines.push(
    '',
    'sentinel help <command> (or <command> --help) shows its options and an example.',
    'Every command takes --data-dir DIR (default ./.sentinel); --debug shows the stack of an unexpected error.',
    '',
    'Environment:',
    ...pad([
      ['SENTINEL_TIME_ZONE', 'the zone of "today" (default UTC)'],
      ['SENTINEL_SLACK_WEBHOOK_URL', 'post alerts to Slack too (a Slack incoming webhook)'],
      ['SENTINEL_SLACK_ALERTS', 'each (default), digest or both'],
      ['SENTINEL_APPROVAL_POLICY', 'the approval policy JSON (default policies/approvals.json)'],
      ['SENTINEL_SLACK_SIGNING_SECRET', "turns on Slack's Approve/Reject buttons"],
    ]),
  );
  return lines.join('\n');
}
