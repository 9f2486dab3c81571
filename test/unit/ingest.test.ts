import { Config, Ingest } from "@switchyard/core";
import { describe, expect, it } from "vitest";
import switchyardConfig from "../../switchyard.config";
import { objectCreated } from "../support/factories";

/** The ingest flow's pure core: event parsing, batch planning, identities, manifest, partitions. */

const config = Config.load(switchyardConfig, "local");
const orders = config.datasets[0] as Config.Dataset;
const file = (key: string, over: Partial<Ingest.FileRef> = {}): Ingest.FileRef => ({
  bucket: "demo-raw",
  key,
  size: 10,
  versionId: `v-${key}`,
  ...over,
});

describe("Ingest.parseBody", () => {
  it("reads an S3 Object Created event in AWS's shape, with the raw key", () => {
    // Prepare
    const event = objectCreated({
      bucket: "demo-raw",
      key: "orders/a b+c=d:é.csv",
      versionId: "v1",
      size: 5,
    });
    // Act
    const parsed = Ingest.parseBody(JSON.stringify(event));
    // Assess
    expect(parsed).toEqual({
      eventId: event.id,
      file: expect.objectContaining({
        bucket: "demo-raw",
        key: "orders/a b+c=d:é.csv",
        versionId: "v1",
        size: 5,
      }),
    });
  });

  it("accepts moto's `eTag` spelling for unversioned objects", () => {
    // Prepare
    const event = objectCreated({
      bucket: "demo-raw",
      key: "orders/a.csv",
      etag: "abc",
      sequencer: "0A",
    });
    const { etag, ...object } = event.detail.object;
    const moto = { ...event, detail: { ...event.detail, object: { ...object, eTag: etag } } };
    // Act
    const parsed = Ingest.parseBody(JSON.stringify(moto));
    // Assess
    expect("file" in parsed && parsed.file.etag).toBe("abc");
  });

  it.each([
    { name: "not JSON", body: "{oops", error: /not JSON/ },
    {
      name: "another event",
      body: JSON.stringify({ "detail-type": "Object Deleted" }),
      error: /not an S3 Object Created event/,
    },
    {
      name: "an unversioned object without sequencer",
      body: JSON.stringify(
        (() => {
          const e = objectCreated({ bucket: "demo-raw", key: "orders/a.csv" });
          const { sequencer: _s, ...object } = e.detail.object;
          return { ...e, detail: { ...e.detail, object } };
        })(),
      ),
      error: /needs etag and sequencer/,
    },
  ])("refuses $name with a clear reason", ({ body, error }) => {
    const parsed = Ingest.parseBody(body);
    expect("error" in parsed && parsed.error).toMatch(error);
  });
});

describe("Ingest.plan", () => {
  it.each([
    {
      name: "a folder marker",
      f: file("orders/2026/", { size: 0 }),
      reason: /^folder marker s3:\/\/demo-raw\/orders\/2026\/$/,
    },
    {
      name: "another bucket",
      f: file("orders/a.csv", { bucket: "other" }),
      reason: /outside every dataset/,
    },
    { name: "a key outside the prefix", f: file("returns/a.csv"), reason: /outside every dataset/ },
    { name: "a key without the suffix", f: file("orders/a.json"), reason: /outside every dataset/ },
  ])("skips $name with the reason", ({ f, reason }) => {
    // Act
    const plan = Ingest.plan(config.datasets, [{ messageId: "m1", file: f }]);
    // Assess
    expect(plan.batches.size).toBe(0);
    expect(plan.skipped).toEqual([
      { messageId: "m1", file: f, reason: expect.stringMatching(reason) },
    ]);
  });

  it("groups files per dataset, once per object version", () => {
    // Prepare
    const a = file("orders/2026/11/23/a.csv");
    const a2 = file("orders/2026/11/23/a.csv", { versionId: "v2" });
    // Act
    const plan = Ingest.plan(config.datasets, [
      { messageId: "m1", file: a },
      { messageId: "m2", file: a },
      { messageId: "m3", file: a2 },
    ]);
    // Assess
    expect(plan.batches.get("orders")?.files).toEqual([a, a2]);
    expect(plan.batches.get("orders")?.messageIds).toEqual(["m1", "m2", "m3"]);
    expect(plan.skipped).toEqual([
      expect.objectContaining({
        messageId: "m2",
        reason: expect.stringMatching(/^duplicate delivery/),
      }),
    ]);
  });
});

describe("Ingest identities and manifest", () => {
  it.each([
    { f: file("orders/a.csv", { versionId: "v1" }), id: "demo-raw/orders/a.csv#v=v1" },
    {
      f: file("orders/a.csv", { versionId: undefined, etag: "e1", sequencer: "0A" }),
      id: "demo-raw/orders/a.csv#etag=e1#seq=0A",
    },
  ])("identifies $id", ({ f, id }) => {
    expect(Ingest.fileId(f)).toBe(id);
  });

  it("names a batch by its files whatever their order, and differently for other files", () => {
    const a = file("orders/a.csv");
    const b = file("orders/b.csv");
    expect(Ingest.manifestHash("orders", [a, b])).toBe(Ingest.manifestHash("orders", [b, a]));
    expect(Ingest.manifestHash("orders", [a])).not.toBe(Ingest.manifestHash("orders", [a, b]));
    expect(Ingest.executionName("orders", Ingest.manifestHash("orders", [a]))).toMatch(
      /^orders-[0-9a-f]{64}$/,
    );
  });

  it.each([
    {
      stagePath: undefined,
      keys: ["orders/2026/11/23/a.csv", "orders/2026/11/23/b.csv", "orders/x.csv"],
      paths: ["orders/", "orders/2026/11/23/"],
    },
    { stagePath: "", keys: ["orders/2026/11/23/a.csv"], paths: ["2026/11/23/"] },
  ])(
    "lists each distinct partition path once (stagePath $stagePath)",
    ({ stagePath, keys, paths }) => {
      const dataset = { ...orders, snowflake: { ...orders.snowflake, stagePath } };
      expect(
        Ingest.partitions(
          dataset,
          keys.map((k) => file(k)),
        ),
      ).toEqual(paths);
    },
  );

  it("writes exactly the batch's files into the manifest, in canonical order", () => {
    const files = [file("orders/b.csv"), file("orders/a.csv")];
    const m = Ingest.manifest(orders, files, "h");
    expect(m.files.map((f) => f.key)).toEqual(["orders/a.csv", "orders/b.csv"]);
    expect(m).toMatchObject({ version: 1, dataset: "orders", batch: "h", partitions: ["orders/"] });
  });
});
