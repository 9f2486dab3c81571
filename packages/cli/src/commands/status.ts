import { clients, Ledger, Promote as PromoteAws } from "@switchyard/aws";
import { Deploy, Ingest, Ledger as LedgerRows, Promote } from "@switchyard/core";
import { connect, UsageError } from "../context";

export interface StatusArgs {
  stage: string;
  flow?: string;
  limit: number;
  json: boolean;
}

/** One deploy (or skipped push) as `status --json` prints it. */
export interface DeployStatus {
  flow: "deploy";
  at: string;
  status: Deploy.Status;
  repository?: string;
  tag?: string;
  digest?: string;
  cluster?: string;
  service?: string;
  revision?: number;
  taskDefinitionArn?: string;
  rolledBackTo?: string;
  durationSeconds?: number;
  reason?: string;
  execution?: string;
}

/** One ingest batch (or skipped message) as `status --json` prints it. */
export interface IngestStatus {
  flow: "ingest";
  at: string;
  status: Ingest.Status;
  dataset?: string;
  files?: number;
  manifest?: string;
  glueRuns?: Record<string, string>;
  failedJob?: string;
  refresh?: Ingest.Row["refresh"];
  key?: string;
  durationSeconds?: number;
  reason?: string;
  execution?: string;
}

/** One promotion (or skipped upload, or operator rollback) as `status --json` prints it. */
export interface PromoteStatus {
  flow: "promote";
  at: string;
  status: Promote.Status;
  /** The execution's name: what `switchyard promote approve <id>` takes. */
  id?: string;
  function?: string;
  alias?: string;
  artifact?: string;
  versionId?: string;
  version?: string;
  previousVersion?: string;
  percent?: number;
  strategy?: string;
  durationSeconds?: number;
  reason?: string;
  execution?: string;
}

type Status = DeployStatus | IngestStatus | PromoteStatus;

const FLOWS = ["deploy", "ingest", "promote"] as const;
type Flow = (typeof FLOWS)[number];

const toDeploy = (r: Deploy.Row): DeployStatus => ({
  flow: r.flow,
  at: r.at,
  status: r.status,
  repository: r.repository,
  tag: r.tag,
  digest: r.digest,
  cluster: r.cluster,
  service: r.service,
  revision: r.revision,
  taskDefinitionArn: r.taskDefinitionArn,
  rolledBackTo: r.rolledBackTo,
  durationSeconds: LedgerRows.durationSeconds(r),
  reason: r.reason,
  execution: r.execution,
});

const toIngest = (r: Ingest.Row): IngestStatus => ({
  flow: r.flow,
  at: r.at,
  status: r.status,
  dataset: r.dataset,
  files: r.files,
  manifest: r.manifest,
  glueRuns: r.glueRuns,
  failedJob: r.failedJob,
  refresh: r.refresh,
  key: r.key,
  durationSeconds: LedgerRows.durationSeconds(r),
  reason: r.reason,
  execution: r.execution,
});

// The approval token stays out: it is a credential for the waiting execution.
const toPromote = (r: Promote.Row): PromoteStatus => ({
  flow: r.flow,
  at: r.at,
  status: r.status,
  id: r.execution ? PromoteAws.executionName(r.execution) : undefined,
  function: r.function,
  alias: r.alias,
  artifact: r.bucket && r.key ? `s3://${r.bucket}/${r.key}` : undefined,
  versionId: r.versionId,
  version: r.version,
  previousVersion: r.previousVersion,
  percent: r.percent,
  strategy: r.strategy,
  durationSeconds: LedgerRows.durationSeconds(r),
  reason: r.reason,
  execution: r.execution,
});

/** Rows of the ledger as `status` shows them, newest first. Rows it cannot read are counted, not hidden. */
export async function readStatus(
  table: string,
  flow: Flow,
  limit: number,
): Promise<{ rows: Status[]; unreadable: number }> {
  const items = await Ledger.listFlow(clients().doc, table, flow, limit);
  const rows: Status[] = [];
  let unreadable = 0;
  for (const item of items) {
    const parsed =
      flow === "deploy"
        ? Deploy.Row.safeParse(item)
        : flow === "ingest"
          ? Ingest.Row.safeParse(item)
          : Promote.Row.safeParse(item);
    if (!parsed.success) unreadable += 1;
    else if (parsed.data.flow === "deploy") rows.push(toDeploy(parsed.data as Deploy.Row));
    else if (parsed.data.flow === "ingest") rows.push(toIngest(parsed.data as Ingest.Row));
    else rows.push(toPromote(parsed.data as Promote.Row));
  }
  return { rows, unreadable };
}

const short = (digest?: string) => (digest ? digest.replace(/^sha256:/, "").slice(0, 12) : "-");
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const took = (r: Status) => (r.durationSeconds !== undefined ? `${r.durationSeconds}s` : "-");
const when = (r: Status) => r.at.replace("T", " ").slice(0, 19);

function table(header: string[], lines: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  return [header, ...lines]
    .map(
      (l) =>
        `${l
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join("  ")
          .trimEnd()}\n`,
    )
    .join("");
}

function deployTable(rows: DeployStatus[]): string {
  return table(
    ["WHEN", "IMAGE", "DIGEST", "SERVICE", "REV", "VERDICT", "TOOK", "WHY"],
    rows.map((r) => [
      when(r),
      `${r.repository ?? "-"}:${r.tag || "-"}`,
      short(r.digest),
      r.service ? `${r.cluster}/${r.service}` : "-",
      r.revision !== undefined ? String(r.revision) : "-",
      r.status,
      took(r),
      clip(
        r.status === "FAILED" && r.rolledBackTo
          ? `rolled back to ${r.rolledBackTo.split("/").pop()}: ${r.reason ?? ""}`
          : (r.reason ?? ""),
        70,
      ),
    ]),
  );
}

function ingestTable(rows: IngestStatus[]): string {
  return table(
    ["WHEN", "DATASET", "FILES", "GLUE RUNS", "SNOWFLAKE", "VERDICT", "TOOK", "WHY"],
    rows.map((r) => [
      when(r),
      r.dataset ?? "-",
      r.files !== undefined ? String(r.files) : "-",
      r.glueRuns ? String(Object.keys(r.glueRuns).length) : "-",
      r.refresh
        ? `${r.refresh.statements} stmt, +${r.refresh.registeredNew} ~${r.refresh.registeredUpdate} -${r.refresh.unregistered}`
        : "-",
      r.status,
      took(r),
      clip(
        r.status === "GLUE_FAILED"
          ? `${r.failedJob}: ${r.reason ?? ""}`
          : (r.reason ?? r.key ?? ""),
        70,
      ),
    ]),
  );
}

function promoteTable(rows: PromoteStatus[]): string {
  return table(
    ["WHEN", "ID", "FUNCTION", "VERSION", "TRAFFIC", "VERDICT", "TOOK", "WHY"],
    rows.map((r) => [
      when(r),
      r.id ? r.id.slice(0, 36) : "-",
      r.function ? `${r.function}:${r.alias}` : "-",
      r.version ? `${r.previousVersion ?? "?"} → ${r.version}` : "-",
      r.percent !== undefined ? `${r.percent}%` : "-",
      r.status,
      took(r),
      clip(r.reason ?? r.artifact ?? "", 70),
    ]),
  );
}

/** `switchyard status`: what the control plane did and why, newest first, per flow. */
export async function status(args: StatusArgs): Promise<void> {
  if (args.flow && !FLOWS.includes(args.flow as Flow))
    throw new UsageError(`unknown flow '${args.flow}'. Use one of: ${FLOWS.join(", ")}`);
  if (!Number.isInteger(args.limit) || args.limit < 1)
    throw new UsageError("--limit must be a positive whole number");
  const { resources } = connect(args.stage);
  const ledger = resources.Ledger?.name;
  if (typeof ledger !== "string")
    throw new UsageError(`the ledger is not linked on stage ${args.stage}; is the stage deployed?`);

  const flows: Flow[] = args.flow ? [args.flow as Flow] : [...FLOWS];
  const all: Status[] = [];
  let unreadable = 0;
  for (const flow of flows) {
    const got = await readStatus(ledger, flow, args.limit);
    all.push(...got.rows);
    unreadable += got.unreadable;
  }
  all.sort((a, b) => b.at.localeCompare(a.at));
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ stage: args.stage, rows: all, unreadable })}\n`);
    return;
  }
  if (all.length === 0) {
    process.stdout.write(
      `nothing recorded on stage ${args.stage} yet. Push an image or drop a file (or \`switchyard send … --stage ${args.stage}\`) and look again.\n`,
    );
    return;
  }
  const sections: [string, Status[], (rows: never[]) => string][] = [
    ["deploy", all.filter((r) => r.flow === "deploy"), deployTable as (rows: never[]) => string],
    ["ingest", all.filter((r) => r.flow === "ingest"), ingestTable as (rows: never[]) => string],
    ["promote", all.filter((r) => r.flow === "promote"), promoteTable as (rows: never[]) => string],
  ];
  const shown = sections.filter(([, rows]) => rows.length > 0);
  for (const [i, [name, rows, render]] of shown.entries()) {
    if (shown.length > 1) process.stdout.write(`${i > 0 ? "\n" : ""}${name}\n`);
    process.stdout.write(render(rows as never[]));
  }
  if (unreadable > 0)
    process.stdout.write(`(${unreadable} ledger rows could not be read; see --json)\n`);
}
