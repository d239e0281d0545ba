// Exponential backoff as an object: min, max, jitter and factor are validated once and frozen;
// each failure asks for the next delay, each success resets it.
import { MeshError, MeshErrorCode } from '@tsmesh/core';

export interface BackoffOptions {
  /** First delay. */
  minMs: number;
  /** Largest delay. */
  maxMs: number;
  /**
   * Fraction of each delay that is random, 0–1: a delay d becomes a value in [d·(1−jitter), d].
   * Keeps many clients that failed together from retrying together.
   */
  jitter: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Source of randomness in [0, 1); tests pass a fixed one. Default Math.random. */
  random?: () => number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  minMs: 250,
  maxMs: 30_000,
  jitter: 0.5,
  factor: 2,
});

export class Backoff {
  readonly minMs: number;
  readonly maxMs: number;
  readonly jitter: number;
  readonly factor: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = DEFAULT_BACKOFF) {
    const { minMs, maxMs, jitter } = options;
    const factor = options.factor ?? 2;
    const bad = (what: string) =>
      new MeshError(MeshErrorCode.Config, `invalid backoff: ${what}`, { where: 'backoff' });
    if (!Number.isFinite(minMs) || minMs < 0) throw bad(`minMs ${minMs} must be a finite number ≥ 0`);
    if (!Number.isFinite(maxMs) || maxMs < minMs)
      throw bad(`maxMs ${maxMs} must be finite and ≥ minMs ${minMs}`);
    if (!(jitter >= 0 && jitter <= 1)) throw bad(`jitter ${jitter} must be within 0..1`);
    if (!Number.isFinite(factor) || factor < 1) throw bad(`factor ${factor} must be ≥ 1`);
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.jitter = jitter;
    this.factor = factor;
    this.#random = options.random ?? Math.random;
    Object.freeze(this);
  }

  /** Failures since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; grows with each call until `maxMs`. */
  next(): number {
    const base = Math.min(this.maxMs, this.minMs * this.factor ** this.#attempt);
    this.#attempt++;
    const r = Math.min(Math.max(this.#random(), 0), 1);
    return Math.round(base * (1 - this.jitter * r));
  }

  /** After a success: the next delay starts from `minMs` again. */
  reset(): void {
    this.#attempt = 0;
  }
}
