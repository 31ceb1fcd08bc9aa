/**
 * A figure as thresholds see it: rounded to 1e-9, so a measure that is exactly on a threshold in
 * decimal (a 10-day drift between fractional means, 30% - 20%) is not pushed off it by binary floats.
 */
export function atThreshold(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}
