/**
 * Thin wrapper around scripts/emulator.sh: make sure a moto server (local AWS emulator) answers on
 * a loopback endpoint, attaching to one that is already up instead of starting a second one.
 */
import { spawn } from "node:child_process";
import { createServer, isIPv4 } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const DEFAULT_ENDPOINT = "http://127.0.0.1:4566";

/** scripts/emulator.sh, located from this file (packages/local/src/emulator.ts). */
const SCRIPT = fileURLToPath(new URL("../../../scripts/emulator.sh", import.meta.url));

const PROBE_TIMEOUT_MS = 2_000;
const RESET_TIMEOUT_MS = 10_000;

export interface EnsureEmulatorOptions {
  /** Endpoint to attach to or start on; defaults to {@link DEFAULT_ENDPOINT}. */
  endpoint?: string;
  /** Receives the script's progress lines (stderr), e.g. during the first debootstrap build. */
  log?: (line: string) => void;
}

export interface EmulatorHandle {
  endpoint: string;
  /** True when this call started the server (false when it attached to a running one). */
  started: boolean;
  /** Stops the server if this call started it; a no-op otherwise. Safe to call twice. */
  stop(): Promise<void>;
}

function trimEndpoint(endpoint: string): string {
  return endpoint.replace(/\/+$/, "");
}

/** True when GET `${endpoint}/moto-api/` answers 200 within a short timeout. */
export async function isUp(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${trimEndpoint(endpoint)}/moto-api/`, {
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host === "::1" || (isIPv4(host) && host.startsWith("127."));
}

interface Target {
  endpoint: string;
  host: string;
  port: number;
}

function parseEndpoint(endpoint: string): Target {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`invalid emulator endpoint '${endpoint}' (expected e.g. ${DEFAULT_ENDPOINT})`);
  }
  if (url.protocol !== "http:") {
    throw new Error(`emulator endpoint must use http:// (got '${endpoint}')`);
  }
  if (!isLoopbackHost(url.hostname)) {
    throw new Error(
      `refusing to start an emulator on non-loopback host '${url.hostname}' (${endpoint}); ` +
        "use 127.0.0.1, localhost or [::1], or start the server there yourself",
    );
  }
  const bare = url.hostname.replace(/^\[|\]$/g, "");
  return {
    endpoint: trimEndpoint(url.origin),
    // emulator.sh binds the address it is given; resolve "localhost" to the IPv4 loopback.
    host: bare.toLowerCase() === "localhost" ? "127.0.0.1" : bare,
    port: url.port === "" ? 80 : Number(url.port),
  };
}

interface ScriptResult {
  code: number;
  stdout: string;
  stderr: string[];
}

function runScript(
  args: string[],
  log: ((line: string) => void) | undefined,
): Promise<ScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [SCRIPT, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const stderr: string[] = [];
    let stdout = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
    });
    createInterface({ input: child.stderr, crlfDelay: Number.POSITIVE_INFINITY }).on(
      "line",
      (line) => {
        stderr.push(line);
        log?.(line);
      },
    );
    child.once("error", (err) => reject(new Error(`cannot run ${SCRIPT}: ${err.message}`)));
    child.once("close", (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** The script's error message: from its first "error:" line on, else its last lines. */
function scriptMessage(args: string[], result: ScriptResult): string {
  const first = result.stderr.findIndex((line) => line.startsWith("[emulator] error:"));
  const lines = first >= 0 ? result.stderr.slice(first) : result.stderr.slice(-20);
  const detail = lines.join("\n") || "(no output)";
  return `emulator.sh ${args[0] ?? ""} failed (exit ${result.code}):\n${detail}`;
}

/**
 * Attach to the moto server answering on `endpoint`, or start one there with scripts/emulator.sh
 * (which picks moto_server, docker or a cached Debian chroot). Starting requires a loopback host.
 */
export async function ensureEmulator(opts: EnsureEmulatorOptions = {}): Promise<EmulatorHandle> {
  const requested = opts.endpoint ?? DEFAULT_ENDPOINT;
  const noop = async (): Promise<void> => {};

  if (await isUp(requested)) {
    return { endpoint: trimEndpoint(requested), started: false, stop: noop };
  }

  const target = parseEndpoint(requested);
  const port = String(target.port);
  const startArgs = ["start", "--host", target.host, "--port", port];
  const result = await runScript(startArgs, opts.log);
  if (result.code !== 0) {
    throw new Error(scriptMessage(startArgs, result));
  }
  // A concurrent caller may have won the race; then the script attached instead of starting.
  const attached = result.stderr.some((line) => line.startsWith("[emulator] attached"));
  if (attached) {
    return { endpoint: target.endpoint, started: false, stop: noop };
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const stopArgs = ["stop", "--port", port];
      const res = await runScript(stopArgs, opts.log);
      if (res.code !== 0) {
        throw new Error(scriptMessage(stopArgs, res));
      }
    })();
    return stopping;
  };
  return { endpoint: target.endpoint, started: true, stop };
}

/** Wipe all emulated AWS state (POST `${endpoint}/moto-api/reset`). */
export async function resetEmulator(endpoint: string): Promise<void> {
  const url = `${trimEndpoint(endpoint)}/moto-api/reset`;
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", signal: AbortSignal.timeout(RESET_TIMEOUT_MS) });
  } catch (err) {
    const cause =
      err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    throw new Error(`POST ${url} failed: ${cause}`);
  }
  if (!res.ok) {
    const body = await res.text().catch(() => "");
    throw new Error(
      `POST ${url} failed: ${res.status} ${res.statusText}${body ? `: ${body}` : ""}`,
    );
  }
  await res.body?.cancel();
}

/** A TCP port on 127.0.0.1 that the OS reports as free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error("could not determine the assigned port"));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
