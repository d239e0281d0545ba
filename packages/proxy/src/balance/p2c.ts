// Power of two choices: pick two distinct ready endpoints at random and take the cheaper. With
// one ready endpoint it is chosen; with none the caller waits (fail-fast) or sheds. This avoids
// the herd behaviour of "always the least loaded" while staying O(1) per request.

/** Chooses an index in [0, costs.length) given a cost function; -1 when there is nothing. */
export function pickP2c(
  count: number,
  cost: (index: number) => number,
  random: () => number = Math.random,
): number {
  if (count <= 0) return -1;
  if (count === 1) return 0;
  const a = Math.min(count - 1, Math.floor(random() * count));
  let b = Math.min(count - 2, Math.floor(random() * (count - 1)));
  if (b >= a) b++;
  return cost(b) < cost(a) ? b : a;
}
