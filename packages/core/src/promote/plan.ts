import type { Promotion, Strategy } from "../config/schema";

/** A promotion that matches an uploaded artifact, or why none does. */
export type Match = { promotion: Promotion } | { skip: string };

/** The configured promotion for `s3://bucket/key` (its prefix and the `.zip` suffix). */
export function match(promotions: readonly Promotion[], bucket: string, key: string): Match {
  const inBucket = promotions.filter((p) => p.bucket === bucket);
  if (inBucket.length === 0)
    return { skip: `no promotion reads bucket ${bucket}; add one to promotions[] or ignore` };
  if (!key.endsWith(".zip"))
    return { skip: `s3://${bucket}/${key} is not a .zip artifact; nothing to promote` };
  const promotion = inBucket.find((p) => key.startsWith(p.prefix));
  if (!promotion)
    return {
      skip: `s3://${bucket}/${key} is under no configured prefix (${inBucket.map((p) => p.prefix).join(", ")}); upload it under the function's prefix`,
    };
  return { promotion };
}

/** One traffic shift before the final one: `percent` on the new version for `bakeSeconds`. */
export interface Step {
  percent: number;
  /** The alias's AdditionalVersionWeights value, 0–1 with at most 4 decimals. */
  weight: number;
  bakeSeconds: number;
  /** Alarms are checked `checks` times, every `checkSeconds`, while the step bakes. */
  checks: number;
  checkSeconds: number;
  /** The bake after the final shift (all-at-once): the alias already has all traffic on the new version. */
  final: boolean;
}

/** Alarms are looked at about ten times per bake, never less often than every 30 s. */
export const MAX_CHECK_SECONDS = 30;

export function checksFor(bakeSeconds: number): { checks: number; checkSeconds: number } {
  if (bakeSeconds <= 0) return { checks: 0, checkSeconds: 0 };
  const checkSeconds = Math.max(1, Math.min(MAX_CHECK_SECONDS, Math.round(bakeSeconds / 10)));
  return { checks: Math.ceil(bakeSeconds / checkSeconds), checkSeconds };
}

const step = (percent: number, bakeSeconds: number, final = false): Step => ({
  percent,
  weight: Math.round(percent * 100) / 10_000,
  bakeSeconds,
  ...checksFor(bakeSeconds),
  final,
});

/**
 * The traffic shifts a strategy makes before moving the alias entirely to the new version:
 * - all-at-once: none (then an optional bake at 100% with alarms watched);
 * - canary N% for M s: one;
 * - linear N% every M s: N%, 2N%, … while below 100%.
 */
export function steps(strategy: Strategy): Step[] {
  switch (strategy.type) {
    case "all-at-once":
      return [];
    case "canary":
      return [step(strategy.percent, strategy.bakeSeconds)];
    case "linear": {
      const out: Step[] = [];
      for (let p = strategy.percent; p < 100 - 1e-9; p += strategy.percent)
        out.push(step(Math.round(p * 100) / 100, strategy.intervalSeconds));
      return out;
    }
  }
}

/** The watched bake after the final shift: all-at-once's `bakeSeconds` when set, else none. */
export const finalBake = (strategy: Strategy): Step[] =>
  strategy.type === "all-at-once" && strategy.bakeSeconds > 0
    ? [step(100, strategy.bakeSeconds, true)]
    : [];

/** A published version as `ListVersionsByFunction` returns it. */
export interface VersionInfo {
  Version?: string;
  CodeSha256?: string;
}

/**
 * The newest published version whose code is `codeSha256`, if any: re-uploading identical code
 * reuses it instead of publishing a copy (or failing with "version exists", as SAM does).
 */
export function reusableVersion(
  versions: readonly VersionInfo[],
  codeSha256: string,
): string | undefined {
  return versions
    .filter((v) => v.Version && v.Version !== "$LATEST" && v.CodeSha256 === codeSha256)
    .map((v) => v.Version as string)
    .sort((a, b) => Number(b) - Number(a))[0];
}

/**
 * Where `switchyard promote rollback` puts the alias: the version it was on before the last
 * promotion that moved it to its current version; failing that, the newest published version
 * older than the current one.
 */
export function rollbackVersion(
  current: string,
  promoted: readonly { version?: string; previousVersion?: string }[],
  published: readonly string[],
): { version: string; source: "ledger" | "versions" } | undefined {
  const last = promoted.find((p) => p.version === current && p.previousVersion);
  if (last?.previousVersion && last.previousVersion !== current)
    return { version: last.previousVersion, source: "ledger" };
  const older = published
    .filter((v) => /^\d+$/.test(v) && Number(v) < Number(current))
    .sort((a, b) => Number(b) - Number(a))[0];
  return older ? { version: older, source: "versions" } : undefined;
}

/** "canary 10% for 300 s", for people reading the ledger. */
export function describeStrategy(s: Strategy): string {
  switch (s.type) {
    case "all-at-once":
      return s.bakeSeconds > 0 ? `all-at-once, then ${s.bakeSeconds} s watched` : "all-at-once";
    case "canary":
      return `canary ${s.percent}% for ${s.bakeSeconds} s`;
    case "linear":
      return `linear ${s.percent}% every ${s.intervalSeconds} s`;
  }
}
