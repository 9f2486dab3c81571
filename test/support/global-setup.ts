import type { TestProject } from "vitest/node";
import { ensureEmulator, freePort } from "../../packages/local/src/emulator";

declare module "vitest" {
  export interface ProvidedContext {
    emulatorEndpoint: string;
  }
}

/**
 * Starts one emulator per test project on a free loopback port (or attaches to
 * SWITCHYARD_TEST_ENDPOINT), so tests never touch the emulator `npm start` uses.
 */
export default async function setup(project: TestProject) {
  const endpoint = process.env.SWITCHYARD_TEST_ENDPOINT || `http://127.0.0.1:${await freePort()}`;
  const emulator = await ensureEmulator({
    endpoint,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  project.provide("emulatorEndpoint", emulator.endpoint);
  return async () => {
    await emulator.stop();
  };
}
