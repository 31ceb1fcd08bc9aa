// The policy shipped with the product. Imported (not read from disk) so Lambda bundles carry it.
import defaultPolicy from './default.json' with { type: 'json' };

export const DEFAULT_POLICY_DOCUMENT: unknown = defaultPolicy;

import approvals from './approvals.json' with { type: 'json' };

/** The approval policy shipped as the example: who approves transfers, by amount and risk. */
export const DEFAULT_APPROVAL_POLICY_DOCUMENT: unknown = approvals;
