/**
 * Points this process's AWS SDK clients at the local emulator through the SDK's standard
 * variables, so handlers and the CLI need no local-only code path. The emulator accepts
 * any credentials; dummy ones make sure no real profile is ever used.
 */
export function useLocalAws(o: { endpoint: string; sfnEndpoint?: string; region?: string }): void {
  process.env.AWS_ENDPOINT_URL = o.endpoint;
  // Step Functions calls go to the local runner, which executes the same ASL.
  if (o.sfnEndpoint) process.env.AWS_ENDPOINT_URL_SFN = o.sfnEndpoint;
  process.env.AWS_REGION = o.region ?? "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "test";
  process.env.AWS_SECRET_ACCESS_KEY ??= "test";
  // The deployed runtime is nodejs22.x; the SDK's Node 20 notice is noise for local use.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
}
