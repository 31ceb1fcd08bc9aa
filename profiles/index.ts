// Profiles shipped with the product. Imported (not read from disk) so the Lambda bundle carries them.
import orders from './erp-open-orders.json' with { type: 'json' };
import eu from './eu-semicolon.json' with { type: 'json' };
import ibm from './ibm-accounts-receivable.json' with { type: 'json' };

export const SHIPPED_PROFILES: Record<string, unknown> = {
  'erp-open-orders': orders,
  'eu-semicolon': eu,
  'ibm-accounts-receivable': ibm,
};
