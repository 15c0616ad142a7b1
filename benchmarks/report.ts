/** Prints one benchmark result as a JSON line: `{ bench, ...figures }`. */
export function report(bench: string, figures: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench, machine: `${process.platform}-${process.arch} node ${process.version}`, ...figures }));
}

/** The p-th percentile (0..100) of `samples`. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** The largest of `samples` (Math.max(...samples) overflows the stack past ~100 000). */
export function largest(samples: number[]): number {
  return samples.reduce((a, b) => (b > a ? b : a), Number.NEGATIVE_INFINITY);
}
