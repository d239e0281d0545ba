// Where configuration comes from. The binary passes process.env; tests pass a plain map.

export interface EnvSource {
  /** The raw value of a variable, or undefined when unset. */
  get(name: string): string | undefined;
}

/** An EnvSource over a plain record (process.env or a test's map). Empty strings count as unset. */
export function createEnvSource(vars: Readonly<Record<string, string | undefined>>): EnvSource {
  return {
    get(name) {
      const value = vars[name];
      return value === undefined || value.trim() === '' ? undefined : value.trim();
    },
  };
}
