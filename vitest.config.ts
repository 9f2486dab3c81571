import { defineConfig } from "vitest/config";

/**
 * Three projects:
 * - unit: the pure core, no I/O, runs in parallel;
 * - integration: adapters, handlers and workflows against the local AWS emulator;
 * - e2e: events through the emulator's EventBridge into the local runtime.
 * Emulator-backed projects share one emulator (started by test/support/global-setup.ts)
 * and reset it between tests, so their files run one at a time.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/workflow/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          globalSetup: ["test/support/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
