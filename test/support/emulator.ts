import { beforeEach, inject } from "vitest";
import { clients } from "../../packages/aws/src/clients";
import { resetEmulator } from "../../packages/local/src/emulator";
import { useLocalAws } from "../../packages/local/src/env";

/**
 * Points the AWS SDK at this project's emulator and resets the emulator before each
 * test, so every test starts from an empty account. Call at the top of a test file.
 */
export function useEmulator() {
  const endpoint = inject("emulatorEndpoint");
  useLocalAws({ endpoint });
  beforeEach(async () => {
    await resetEmulator(endpoint);
  });
  return { endpoint, clients: () => clients({ endpoint, region: "us-east-1" }) };
}
