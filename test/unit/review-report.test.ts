import { describe, expect, it } from 'vitest';
import { countsOf } from '../../functions/reviews/app.ts';
import type { ReviewRun } from '../../functions/reviews/ports.ts';
import { REPORT_COLUMNS, reviewReport } from '../../functions/reviews/report.ts';
import type { Review } from '../../functions/reviews/review.ts';

/** The run's report (CSV of every customer, HTML for people) and the run's counts. */

function done(customerId: string, extra: Partial<Review> = {}): Review {
  return {
    reviewId: `run-1/${customerId}`,
    runId: 'run-1',
    customerId,
    name: `Customer ${customerId}`,
    asOf: '2026-06-30',
    reviewedAt: '2026-06-30T05:00:00.000Z',
    policyId: 'default-2026.11+abcdef12',
    due: 'first review',
    status: 'done',
    currency: 'EUR',
    score: 70,
    rating: 'B',
    riskClass: 'low',
    currentLimit: 12_000_000,
    recommendedLimit: 12_000_000,
    outcome: 'keep',
    decision: 'keep 120000.00',
    limitAfter: 12_000_000,
    nextReviewOn: '2027-06-30',
    attention: false,
    applied: true,
    ...extra,
  };
}

function failed(customerId: string, error: string): Review {
  return {
    reviewId: `run-1/${customerId}`,
    runId: 'run-1',
    customerId,
    asOf: '2026-06-30',
    reviewedAt: '2026-06-30T05:00:00.000Z',
    policyId: 'default-2026.11+abcdef12',
    due: 'scheduled: due on 2026-06-30 (low risk, every 12 months)',
    status: 'failed',
    error,
    attention: true,
    applied: true,
  };
}

const previous = (rating: NonNullable<Review['rating']>, score: number, limit?: number) => ({
  reviewedOn: '2025-06-30',
  rating,
  score,
  limit,
});

/** The run's reviews: one of each outcome, a failure, rating changes both ways, awkward names. */
const reviews: Review[] = [
  // keep, no change of rating
  done('C01', { previous: previous('B', 72, 12_000_000) }),
  // cut, rating down A -> B
  done('C02', {
    name: '=HYPERLINK("http://x","y")',
    previous: previous('A', 85),
    currentLimit: 20_000_000,
    recommendedLimit: 12_000_000,
    limitAfter: 12_000_000,
    outcome: 'cut',
    rule: 'CUT',
    thinHistory: false,
    decision: 'cut from 200,000.00 EUR to 120,000.00 EUR at once: still above the exposure of 81,234.56 EUR',
    basis: [
      '40000.00 average monthly sales (480000.00 over the last 12 months) x 3 months',
      '+ 1.00 guarantee',
    ],
    figures: {
      exposure: 8_123_456,
      openAmount: 8_123_456,
      overdueAmount: 1_000_000,
      maxDaysPastDue: 12,
      limitUse: 0.41,
      dso: 61.2,
      salesInWindow: 48_000_000,
      salesMonths: 12,
      monthlySales: 4_000_000,
      secured: 100,
    },
    attention: true,
  }),
  // raise, rating up C -> B
  done('C03', {
    name: 'Smith, "Bob" & Sons',
    previous: previous('C', 55),
    currentLimit: 10_000_000,
    limitAfter: 12_000_000,
    outcome: 'raise',
    decision: 'raised from 100,000.00 EUR to 120,000.00 EUR',
  }),
  // approval, in JPY (no decimals), with the transfer asking for it
  done('C04', {
    name: '<script>alert(1)</script>',
    currency: 'JPY',
    currentLimit: 1_000_000,
    recommendedLimit: 2_000_000,
    limitAfter: 1_000_000,
    outcome: 'approval',
    request: 'increase',
    askedLimit: 2_000_000,
    decision: 'raise from 1,000,000 JPY to 2,000,000 JPY needs approval',
    transferId: 'T-9',
    attention: true,
  }),
  // keep, but high risk and rating down D -> E
  done('C05', {
    previous: previous('D', 40),
    rating: 'E',
    score: 20,
    riskClass: 'high',
    currentLimit: 0,
    recommendedLimit: 0,
    limitAfter: 0,
    attention: true,
  }),
  failed('C06', 'Error: no partition'),
];

const run: ReviewRun = {
  runId: 'run-1',
  asOf: '2026-06-30',
  policyId: 'default-2026.11+abcdef12',
  trigger: 'schedule',
  startedAt: '2026-06-30T05:00:00.000Z',
  status: 'done',
  selected: reviews.length,
  manifest: { Bucket: 'b', Key: 'manifests/run-1.json' },
  finishedAt: '2026-06-30T05:10:00.000Z',
  counts: countsOf(reviews),
};

/** RFC 4180 records: quoted fields may hold commas, quotes (doubled) and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) throw new Error('the CSV does not end with CRLF');
  return rows;
}

describe('the CSV report', () => {
  const { csv } = reviewReport(run, reviews);
  const rows = parseCsv(csv);
  const col = (row: string[], name: (typeof REPORT_COLUMNS)[number]) => row[REPORT_COLUMNS.indexOf(name)];
  const rowOf = (id: string) => {
    const r = rows.find((x) => x[0] === id);
    if (!r) throw new Error(`no row for ${id}`);
    return r;
  };

  it('has the header, then one row per review, every line ending in CRLF', () => {
    expect(csv.startsWith(`${REPORT_COLUMNS.join(',')}\r\n`)).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(rows).toHaveLength(1 + reviews.length);
    expect(rows[0]).toEqual([...REPORT_COLUMNS]);
    expect(rows.slice(1).map((r) => r[0])).toEqual(['C01', 'C02', 'C03', 'C04', 'C05', 'C06']);
    for (const r of rows) expect(r).toHaveLength(REPORT_COLUMNS.length);
  });

  it('writes a name starting with "=" as text, and quotes commas and quotes', () => {
    expect(col(rowOf('C02'), 'name')).toBe('\'=HYPERLINK("http://x","y")');
    expect(csv).toContain('"\'=HYPERLINK(""http://x"",""y"")"');
    expect(col(rowOf('C03'), 'name')).toBe('Smith, "Bob" & Sons');
    expect(csv).toContain(',"Smith, ""Bob"" & Sons",');
  });

  it('writes amounts in the minor units of the currency (JPY has none)', () => {
    const c02 = rowOf('C02');
    expect([col(c02, 'limit_before'), col(c02, 'recommended_limit'), col(c02, 'limit_after')]).toEqual([
      '200000.00',
      '120000.00',
      '120000.00',
    ]);
    const c04 = rowOf('C04');
    expect(col(c04, 'currency')).toBe('JPY');
    expect([col(c04, 'limit_before'), col(c04, 'recommended_limit'), col(c04, 'limit_after')]).toEqual([
      '1000000',
      '2000000',
      '1000000',
    ]);
    expect(col(rowOf('C05'), 'limit_after')).toBe('0.00');
  });

  it('writes the exposure, the overdue amount, the rule and the basis of a change; the limit asked for', () => {
    const c02 = rowOf('C02');
    expect([col(c02, 'exposure'), col(c02, 'overdue'), col(c02, 'max_days_past_due')]).toEqual([
      '81234.56',
      '10000.00',
      '12',
    ]);
    expect([col(c02, 'rule'), col(c02, 'thin_history')]).toEqual(['CUT', 'no']);
    expect(col(c02, 'basis')).toBe(
      '40000.00 average monthly sales (480000.00 over the last 12 months) x 3 months; + 1.00 guarantee',
    );
    expect(col(rowOf('C04'), 'asked_limit')).toBe('2000000');
    // A failed review has no figures: empty cells, not "undefined".
    const c06 = rowOf('C06');
    expect([col(c06, 'exposure'), col(c06, 'basis'), col(c06, 'thin_history')]).toEqual(['', '', '']);
  });

  it('writes the review: before and after, outcome, transfer, next review, attention', () => {
    const c02 = rowOf('C02');
    expect(col(c02, 'rating_before')).toBe('A');
    expect(col(c02, 'rating')).toBe('B');
    expect(col(c02, 'score_before')).toBe('85');
    expect(col(c02, 'score')).toBe('70');
    expect(col(c02, 'outcome')).toBe('cut');
    expect(col(c02, 'attention')).toBe('yes');
    expect(col(c02, 'next_review')).toBe('2027-06-30');
    expect(col(c02, 'decision')).toBe(
      'cut from 200,000.00 EUR to 120,000.00 EUR at once: still above the exposure of 81,234.56 EUR',
    );
    expect(col(rowOf('C04'), 'transfer_id')).toBe('T-9');
    expect(col(rowOf('C01'), 'attention')).toBe('no');
  });

  it('writes a failed review with its error and empty figures', () => {
    const c06 = rowOf('C06');
    expect(col(c06, 'status')).toBe('failed');
    expect(col(c06, 'error')).toBe('Error: no partition');
    expect(col(c06, 'attention')).toBe('yes');
    for (const c of [
      'name',
      'rating',
      'score',
      'currency',
      'limit_before',
      'limit_after',
      'outcome',
    ] as const)
      expect(col(c06, c), c).toBe('');
  });

  it('is only the header for a run with no one due', () => {
    expect(reviewReport({ ...run, selected: 0, counts: countsOf([]) }, []).csv).toBe(
      `${REPORT_COLUMNS.join(',')}\r\n`,
    );
  });
});

describe('the HTML report', () => {
  const { html } = reviewReport(run, reviews);

  it('escapes what customers are called', () => {
    expect(html).not.toContain('<script>');
    expect(html).toContain('C04 &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('C03 Smith, &quot;Bob&quot; &amp; Sons');
  });

  it('lists who needs attention, rating changes and limit changes, with their counts', () => {
    // Attention: C02 (cut), C04 (approval), C05 (high risk, rating fell), C06 (failed).
    expect(html).toContain('<h2>Needs attention (4)</h2>');
    expect(html).toContain('<h2>Failed reviews (1)</h2>');
    // Rating changes: C02 A -> B, C03 C -> B, C05 D -> E (C01 kept B; C04 has no previous).
    expect(html).toContain('<h2>Rating changes (3)</h2>');
    // Limit changes: C02 cut, C03 raise, C04 approval.
    expect(html).toContain('<h2>Limit changes (3)</h2>');
  });

  it('shows the section of each customer where it belongs', () => {
    const section = (title: string) => {
      const start = html.indexOf(`<h2>${title}`);
      const end = html.indexOf('<h2>', start + 1);
      return html.slice(start, end === -1 ? undefined : end);
    };
    const attention = section('Needs attention');
    const customerCell = (id: string) => new RegExp(`<td>${id}[ <]`);
    for (const id of ['C02', 'C04', 'C05', 'C06']) expect(attention).toMatch(customerCell(id));
    for (const id of ['C01', 'C03']) expect(attention).not.toMatch(customerCell(id));
    expect(attention).toContain('<td>failed: Error: no partition</td>');
    const limits = section('Limit changes');
    expect(limits).toContain('<td class="n">200,000.00 EUR</td>');
    expect(limits).toContain('<td class="n">1,000,000 JPY</td>');
    expect(limits).toContain('approval asked (T-9)');
    // Each change with the exposure and overdue it was made against, and the limit's basis.
    expect(limits).toContain('<td class="n">81,234.56 EUR</td><td class="n">10,000.00 EUR</td>');
    expect(limits).toContain(
      '<td>40000.00 average monthly sales (480000.00 over the last 12 months) x 3 months; + 1.00 guarantee</td>',
    );
    // The approval's row shows the limit asked for.
    expect(limits).toContain('<td class="n">2,000,000 JPY</td><td>approval asked (T-9)</td>');
    expect(section('Rating changes')).toContain('<td>A (85)</td><td>B (70)</td>');
  });

  it('says None for an empty section', () => {
    const calm = [done('C01', { previous: previous('B', 70) })];
    const { html: h } = reviewReport({ ...run, counts: countsOf(calm) }, calm);
    expect(h).toContain('<h2>Needs attention</h2><p>None.</p>');
    expect(h).toContain('<h2>Rating changes</h2><p>None.</p>');
    expect(h).toContain('<h2>Limit changes</h2><p>None.</p>');
  });

  it('says how approval was asked: one by one, or once for the whole batch', () => {
    expect(html).toContain('<dt>How approval was asked</dt><dd>nothing needed approval</dd>');
    const each = reviewReport(
      { ...run, approvals: { mode: 'each', count: 1, byCustomer: { C04: 'T-9' } } },
      reviews,
    );
    expect(each.html).toContain('<dt>How approval was asked</dt><dd>one request per customer (1)</dd>');
    const batch = reviewReport(
      { ...run, approvals: { mode: 'batch', count: 12, transferId: 'TR-B' } },
      reviews,
    );
    expect(batch.html).toContain(
      '<dt>How approval was asked</dt><dd>once, for the whole batch of 12 changes (TR-B)</dd>',
    );
  });

  it('carries the counts in its summary', () => {
    expect(html).toContain('<dt>Reviewed</dt><dd>5</dd>');
    expect(html).toContain('<dt>Failed</dt><dd>1</dd>');
    expect(html).toContain('<dt>Ratings up / down</dt><dd>1 / 2</dd>');
    expect(html).toContain('<dt>Need attention</dt><dd>4</dd>');
  });
});

describe('countsOf', () => {
  it('counts outcomes, failures, ratings up and down (A -> B is down) and attention', () => {
    expect(countsOf(reviews)).toEqual({
      reviewed: 5,
      failed: 1,
      outcomes: { cut: 1, raise: 1, approval: 1, keep: 2 },
      ratingUp: 1, // C03 C -> B
      ratingDown: 2, // C02 A -> B, C05 D -> E
      attention: 4,
    });
  });

  it('counts nothing of an empty run', () => {
    expect(countsOf([])).toEqual({
      reviewed: 0,
      failed: 0,
      outcomes: { cut: 0, raise: 0, approval: 0, keep: 0 },
      ratingUp: 0,
      ratingDown: 0,
      attention: 0,
    });
  });

  it('counts a two-notch change once, and a review without a previous one as no change', () => {
    const c = countsOf([
      done('X1', { previous: previous('A', 90), rating: 'C' }),
      done('X2', { previous: previous('E', 10), rating: 'A' }),
      done('X3'),
    ]);
    expect(c.ratingDown).toBe(1);
    expect(c.ratingUp).toBe(1);
    expect(c.reviewed).toBe(3);
  });
});
