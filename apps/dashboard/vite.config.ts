import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by the orchestrator under /ui; every asset is bundled (nothing is fetched from elsewhere at run time).
export default defineConfig({
  base: '/ui/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
  server: {
    // `npx vite` in apps/dashboard during development: the API of an orchestrator on port 3000.
    proxy: { '^/(tasks|agents|workflows|events)': 'http://127.0.0.1:3000' },
  },
});
