import { defineConfig } from 'vitest/config';

// Unit tests of the sidebar's logic (message handling, sanitising, uploads) in jsdom.
export default defineConfig({
  test: {
    environment: 'jsdom',
    include: ['test/**/*.spec.ts'],
    restoreMocks: true
  }
});
