// The UI builds to web/dist, which `apextrade serve` serves at / (APEX_WEB_DIR). JSX is compiled
// by esbuild itself (no React plugin: one dependency less, nothing it adds is used here).
// `npm run dev` serves the sources with hot reload and proxies the API (APEX_API, default the
// `make run` server).
import { defineConfig } from "vitest/config";

const api = process.env.APEX_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  esbuild: { jsx: "automatic" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    chunkSizeWarningLimit: 1024,
    rollupOptions: {
      // React Query marks its modules "use client" (for server components): meaningless here.
      onwarn(w, warn) {
        if (w.code !== "MODULE_LEVEL_DIRECTIVE") warn(w);
      },
    },
  },
  server: { proxy: { "/api": { target: api, ws: true, changeOrigin: false } } },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
