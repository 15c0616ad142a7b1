/**
 * How many swaps a storm test runs: `quick` in `npm test` (the suite has a time budget on
 * two cores), `full` under `npm run stress`, which runs the storm files again with
 * ISOSWAP_STRESS=1.
 *
 * @example
 * const SWAPS = stormSwaps(25, 100);
 */
export const stormSwaps = (quick: number, full: number): number => (process.env['ISOSWAP_STRESS'] === '1' ? full : quick);
