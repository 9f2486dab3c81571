import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Context } from "aws-lambda";

/** A Lambda handler as the local runtime calls it. */
export type Handler = (event: unknown, context: Context) => Promise<unknown>;

/** A Lambda `Context` for an in-process invocation, with a real deadline. */
export function lambdaContext(
  functionName: string,
  timeoutSeconds: number,
  region: string,
  account: string,
): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Loads `functions/<file>.ts`'s export for a topology handler string such as
 * `functions/deploy.handler`. Returns undefined when the file does not exist.
 */
export async function loadHandler(root: string, handler: string): Promise<Handler | undefined> {
  const dot = handler.lastIndexOf(".");
  const file = handler.slice(0, dot);
  const exportName = handler.slice(dot + 1);
  const path = join(root, `${file}.ts`);
  if (!existsSync(path)) return undefined;
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const fn = mod[exportName];
  if (typeof fn !== "function")
    throw new Error(`${file}.ts does not export a function named '${exportName}'`);
  return fn as Handler;
}
