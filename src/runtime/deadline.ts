/**
 * `work`, or `onExpire()`'s error thrown once `ms` pass first (0: no limit). The work is
 * not cancelled: `onExpire` ends whatever runs it.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, onExpire: () => Error): Promise<T> {
  if (ms <= 0) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(onExpire()), ms); });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
