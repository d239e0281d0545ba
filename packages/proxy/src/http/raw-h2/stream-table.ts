// A connection's open streams by id: an open-addressing hash table (linear probing, deletion by
// backward shift) in two flat arrays, instead of a Map.
//
// Why not a Map: a connection lives long, so its Map's backing table is soon in the old
// generation, and every stream's set and delete churns it. When V8 rehashes an OrderedHashMap
// (growing, or compacting the holes deletions leave) the obsolete table keeps its entries and a
// pointer to its successor, so that live iterators can follow. Once one obsolete table is in the
// old generation, each scavenge treats its stale slots as roots: every table since, every stream
// they ever held and everything those streams reach (handlers, heads, exchanges) survive and are
// promoted, to be freed only by the next mark-compact. Measured on the benchmark pair (bench/README,
// "Proxy pair", session 13) at 1,000 requests/s: 290-354 KB promoted at every scavenge, about
// 1-2 KB per request; with this table, 3 KB, and no mark-compact during the run.
//
// Here a deleted slot is cleared at once and the arrays are only replaced when they grow, so no
// stale reference outlives a stream. Keys are stream ids (1 to 2^31-1; 0 marks a free slot).

/** Slots are doubled when the table would be more than half full. */
const INITIAL_CAPACITY = 16;

export class StreamTable<T> {
  #keys = new Uint32Array(INITIAL_CAPACITY);
  #values: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY).fill(undefined);
  #mask = INITIAL_CAPACITY - 1;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(id: number): T | undefined {
    const keys = this.#keys;
    const mask = this.#mask;
    for (let i = slotOf(id, mask); keys[i] !== 0; i = (i + 1) & mask) {
      if (keys[i] === id) return this.#values[i];
    }
    return undefined;
  }

  /** Adds or replaces the value of `id` (1 to 2^31-1). */
  set(id: number, value: T): void {
    if (!(id > 0 && id <= 0x7fffffff && Number.isInteger(id))) {
      throw new RangeError(`stream id ${id} is not from 1 to 2^31-1`);
    }
    if ((this.#size + 1) * 2 > this.#keys.length) this.#grow();
    this.#put(id, value);
  }

  /** Removes `id`; whether it was there. */
  delete(id: number): boolean {
    const keys = this.#keys;
    const values = this.#values;
    const mask = this.#mask;
    let i = slotOf(id, mask);
    while (keys[i] !== id) {
      if (keys[i] === 0) return false;
      i = (i + 1) & mask;
    }
    // Backward shift: later entries of the probe run move into the hole when their home slot
    // does not lie cyclically in (hole, their slot], so every lookup still finds them.
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const home = slotOf(keys[j]!, mask);
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      keys[i] = keys[j]!;
      values[i] = values[j];
      i = j;
    }
    keys[i] = 0;
    values[i] = undefined;
    this.#size--;
    return true;
  }

  clear(): void {
    this.#keys.fill(0);
    this.#values.fill(undefined);
    this.#size = 0;
  }

  /** The values, as a new array (the table may change while the caller goes through it). */
  values(): T[] {
    const out: T[] = [];
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) out.push(this.#values[i]!);
    return out;
  }

  #put(id: number, value: T): void {
    const keys = this.#keys;
    const mask = this.#mask;
    let i = slotOf(id, mask);
    while (keys[i] !== 0) {
      if (keys[i] === id) {
        this.#values[i] = value;
        return;
      }
      i = (i + 1) & mask;
    }
    keys[i] = id;
    this.#values[i] = value;
    this.#size++;
  }

  #grow(): void {
    const keys = this.#keys;
    const values = this.#values;
    const capacity = keys.length * 2;
    this.#keys = new Uint32Array(capacity);
    this.#values = new Array<T | undefined>(capacity).fill(undefined);
    this.#mask = capacity - 1;
    this.#size = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.#put(keys[i]!, values[i] as T);
  }
}

/** One side's stream ids are all odd or all even: halved, consecutive ids take consecutive slots. */
function slotOf(id: number, mask: number): number {
  return (id >>> 1) & mask;
}
