/**
 * Nova Handel GmbH's credit application (README "Credit applications"): a full statement, an
 * agency score of 72, 300,000.00 EUR asked; rated B, 240,000.00 EUR recommended.
 */
export const NOVA = {
  customerId: 'NOVA',
  name: 'Nova Handel GmbH',
  country: 'DE',
  currency: 'EUR',
  registrationNo: 'HRB 123456',
  industry: 'wholesale',
  paymentTermsDays: 30,
  requestedLimit: '300000.00',
  financials: [
    {
      periodEnd: '2025-12-31',
      revenue: '2400000.00',
      currentAssets: '400000.00',
      currentLiabilities: '200000.00',
      inventory: '100000.00',
      totalAssets: '1000000.00',
      totalLiabilities: '500000.00',
      retainedEarnings: '150000.00',
      ebit: '80000.00',
      equity: '500000.00',
    },
  ],
  score: { agency: 'Creditreform', date: '2026-10-01', score: 72, scaleMax: 100 },
  legalDisputes: [{ date: '2024-03-01', description: 'supplier claim, settled', state: 'closed' }],
  filedBy: 'rita',
};
