// Port lists as Linkerd writes them in annotations and flags: `25,587,3306-3310`, and for
// config.linkerd.io/opaque-ports on pods also container port names.
export interface PortSetParse {
  readonly ports: ReadonlySet<number>;
  /** Names that were not numbers (resolved by the caller against container ports). */
  readonly names: readonly string[];
  /** Items that are neither a port, a range nor a name. */
  readonly invalid: readonly string[];
}

const MAX_RANGE = 65535;

export function parsePortSet(text: string): PortSetParse {
  const ports = new Set<number>();
  const names: string[] = [];
  const invalid: string[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const range = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(item);
    if (range) {
      const lo = Number(range[1]);
      const hi = range[2] === undefined ? lo : Number(range[2]);
      if (lo < 1 || hi > MAX_RANGE || hi < lo) {
        invalid.push(item);
        continue;
      }
      for (let p = lo; p <= hi; p++) ports.add(p);
    } else if (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/i.test(item) && item.length <= 15) {
      names.push(item);
    } else {
      invalid.push(item);
    }
  }
  return { ports, names, invalid };
}
