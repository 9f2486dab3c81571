import { beforeEach, inject } from "vitest";
import { clients } from "../../packages/aws/src/clients";
import { resetEmulator } from "../../packages/local/src/emulator";

/**
 * Points the AWS SDK at this project's emulator and resets the emulator before each
 * test, so every test starts from an empty account. Call at the top of a test file.
 */
export function useEmulator() {
  const endpoint = inject("emulatorEndpoint");
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_REGION = "us-east-1";
  process.env.AWS_ACCESS_KEY_ID = "test";
  process.env.AWS_SECRET_ACCESS_KEY = "test";
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  beforeEach(async () => {
    await resetEmulator(endpoint);
  });
  return { endpoint, clients: () => clients({ endpoint, region: "us-east-1" }) };
}
