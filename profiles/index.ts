// Profiles shipped with the product. Imported (not read from disk) so the Lambda bundle carries them.
import ibm from './ibm-accounts-receivable.json' with { type: 'json' };

export const SHIPPED_PROFILES: Record<string, unknown> = {
  'ibm-accounts-receivable': ibm,
};
