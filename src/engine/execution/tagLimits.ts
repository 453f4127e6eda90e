// Dagster's TagConcurrencyLimitsCounter (reference §2.3): one counter type for both per-run op tag
// limits (multiprocess executor) and run tag limits (run queue).
export interface TagConcurrencyLimit {
  key: string;
  /** A string limits that exact value; absent/null or `{applyLimitPerUniqueValue: false}` limits the key; true limits each value separately. */
  value?: string | null | { applyLimitPerUniqueValue: boolean };
  limit: number;
}

type Tags = Readonly<Record<string, string>>;

export class TagConcurrencyLimitsCounter {
  private readonly keyLimits = new Map<string, number>();
  private readonly valueLimits = new Map<string, number>();
  private readonly perValueLimits = new Map<string, number>();
  private readonly keyCounts = new Map<string, number>();
  private readonly valueCounts = new Map<string, number>();

  constructor(limits: readonly TagConcurrencyLimit[], inProgress: Iterable<Tags> = []) {
    for (const l of limits) {
      if (typeof l.value === "string") this.valueLimits.set(pair(l.key, l.value), l.limit);
      else if (l.value && typeof l.value === "object" && l.value.applyLimitPerUniqueValue) this.perValueLimits.set(l.key, l.limit);
      else this.keyLimits.set(l.key, l.limit);
    }
    for (const tags of inProgress) this.update(tags);
  }

  get empty(): boolean {
    return this.keyLimits.size === 0 && this.valueLimits.size === 0 && this.perValueLimits.size === 0;
  }

  /** The first limit that blocks an item with these tags, described for humans; undefined when free. */
  blockedBy(tags: Tags): { key: string; value?: string; count: number; limit: number } | undefined {
    for (const [key, value] of Object.entries(tags)) {
      const keyLimit = this.keyLimits.get(key);
      if (keyLimit !== undefined && (this.keyCounts.get(key) ?? 0) >= keyLimit) return { key, count: this.keyCounts.get(key) ?? 0, limit: keyLimit };
      const p = pair(key, value);
      const valueLimit = this.valueLimits.get(p) ?? this.perValueLimits.get(key);
      if (valueLimit !== undefined && (this.valueCounts.get(p) ?? 0) >= valueLimit) return { key, value, count: this.valueCounts.get(p) ?? 0, limit: valueLimit };
    }
    return undefined;
  }

  isBlocked(tags: Tags): boolean {
    return this.blockedBy(tags) !== undefined;
  }

  update(tags: Tags): void {
    for (const [key, value] of Object.entries(tags)) {
      if (this.keyLimits.has(key)) this.keyCounts.set(key, (this.keyCounts.get(key) ?? 0) + 1);
      const p = pair(key, value);
      if (this.valueLimits.has(p) || this.perValueLimits.has(key)) this.valueCounts.set(p, (this.valueCounts.get(p) ?? 0) + 1);
    }
  }
}

function pair(key: string, value: string): string {
  return `${key}\u0000${value}`;
}
