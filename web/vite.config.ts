// Vite builds the dashboard into dist/, which the API serves at `/`; Vitest runs the component
// tests in jsdom. In development `npm run dev` proxies /api to a local dashboard API.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [react()],
  server: { proxy: { "/api": process.env.FAULTLINE_API ?? "http://127.0.0.1:2333" } },
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 600 },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    restoreMocks: true,
    unstubGlobals: true,
    // No per-test time limits: CI machines are noisy; pytest bounds the whole run.
    testTimeout: 0,
    hookTimeout: 0,
  },
});
