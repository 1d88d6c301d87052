import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/setup/global.ts'],
    // Native inference saturates both cores of a small machine; parallel files would only fight.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // expect.poll waits for a condition; its 1 s default is a speed assertion in disguise, and one that
    // a busy CI machine loses (the UI tests poll for what the page shows after a request). A poll that
    // passes returns as soon as it does, so the longer limit costs nothing.
    expect: { poll: { timeout: 30_000 } },
  },
});
