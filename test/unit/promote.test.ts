import { describe, expect, it } from "vitest";
import { Config, Promote } from "../../packages/core/src";
import switchyardConfig from "../../switchyard.config";

const api = Config.load(switchyardConfig, "local").promotions[0] as Config.Promotion;

describe("Promote.steps: the traffic shifts before the final one", () => {
  it.each([
    { strategy: { type: "all-at-once", bakeSeconds: 0 }, percents: [], final: [] },
    { strategy: { type: "all-at-once", bakeSeconds: 60 }, percents: [], final: [100] },
    { strategy: { type: "canary", percent: 10, bakeSeconds: 300 }, percents: [10], final: [] },
    {
      strategy: { type: "linear", percent: 25, intervalSeconds: 60 },
      percents: [25, 50, 75],
      final: [],
    },
    {
      strategy: { type: "linear", percent: 30, intervalSeconds: 60 },
      percents: [30, 60, 90],
      final: [],
    },
    { strategy: { type: "linear", percent: 50, intervalSeconds: 1 }, percents: [50], final: [] },
  ] as const)("$strategy.type $strategy.percent% → $percents", ({ strategy, percents, final }) => {
    // Act
    const steps = Promote.steps(strategy as Config.Strategy);
    const bake = Promote.finalBake(strategy as Config.Strategy);
    // Assess
    expect(steps.map((s) => s.percent)).toEqual(percents);
    expect(steps.every((s) => s.weight === s.percent / 100 && !s.final)).toBe(true);
    expect(bake.map((s) => s.percent)).toEqual(final);
    expect(bake.every((s) => s.final)).toBe(true);
  });

  it.each([
    { bake: 3, checks: 3, every: 1 },
    { bake: 300, checks: 10, every: 30 },
    { bake: 3600, checks: 120, every: 30 },
    { bake: 25, checks: 9, every: 3 },
  ])("checks alarms often enough during a $bake s bake", ({ bake, checks, every }) => {
    // Act
    const got = Promote.checksFor(bake);
    // Assess
    expect(got).toEqual({ checks, checkSeconds: every });
    expect(got.checks * got.checkSeconds).toBeGreaterThanOrEqual(bake);
  });
});

describe("Promote.match", () => {
  it.each([
    { bucket: "demo-artifacts", key: "api/build-7.zip", want: "api" },
    { bucket: "demo-artifacts", key: "api/build-7.tar.gz", want: /not a \.zip artifact/ },
    {
      bucket: "demo-artifacts",
      key: "web/build-7.zip",
      want: /under no configured prefix \(api\/\)/,
    },
    { bucket: "other", key: "api/build-7.zip", want: /no promotion reads bucket other/ },
  ])("s3://$bucket/$key", ({ bucket, key, want }) => {
    // Act
    const got = Promote.match([api], bucket, key);
    // Assess
    if (typeof want === "string") expect("promotion" in got && got.promotion.name).toBe(want);
    else expect("skip" in got && got.skip).toMatch(want);
  });
});

describe("Promote.reusableVersion and rollbackVersion", () => {
  const versions = [
    { Version: "$LATEST", CodeSha256: "c" },
    { Version: "1", CodeSha256: "a" },
    { Version: "2", CodeSha256: "b" },
    { Version: "3", CodeSha256: "a" },
  ];
  it.each([
    { sha: "a", want: "3" },
    { sha: "b", want: "2" },
    { sha: "c", want: undefined }, // only $LATEST has it: publish
    { sha: "z", want: undefined },
  ])("code $sha reuses version $want", ({ sha, want }) => {
    expect(Promote.reusableVersion(versions, sha)).toBe(want);
  });

  it.each([
    {
      name: "the version before the promotion that set the current one",
      current: "5",
      promoted: [{ version: "5", previousVersion: "3" }],
      want: { version: "3", source: "ledger" },
    },
    {
      name: "the newest older version when the ledger does not know",
      current: "5",
      promoted: [],
      want: { version: "4", source: "versions" },
    },
    { name: "nothing older", current: "1", promoted: [], want: undefined },
  ])("$name", ({ current, promoted, want }) => {
    expect(
      Promote.rollbackVersion(
        current,
        promoted,
        ["1", "2", "3", "4", "5"].filter((v) => v <= current),
      ),
    ).toEqual(want);
  });

  it("never regresses to an older upload", () => {
    expect(
      Promote.newerUpload({ uploadedAt: "2026-11-24T10:00:00Z" }, "2026-11-24T09:00:00Z"),
    ).toBe(false);
    expect(
      Promote.newerUpload({ uploadedAt: "2026-11-24T10:00:00Z" }, "2026-11-24T10:00:01Z"),
    ).toBe(true);
    expect(Promote.newerUpload(undefined, "2026-11-24T10:00:00Z")).toBe(true);
  });
});

describe("Promote.parseArtifact", () => {
  it.each([
    { event: { nope: 1 }, error: /not an S3 Object Created event/ },
    { event: null, error: /not an S3 Object Created event/ },
  ])("rejects $event with the fields at fault", ({ event, error }) => {
    const got = Promote.parseArtifact(event);
    expect("error" in got && got.error).toMatch(error);
  });
});
