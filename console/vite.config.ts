// Builds the console into TERN_CONSOLE_OUT (the CMake target sets it to the build tree's
// share/tern/console) or dist/. Hashed file names under assets/ let the gateway cache them for
// a year; bpmn-js and form-js are split into chunks loaded when a page needs them.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: process.env.TERN_CONSOLE_OUT ?? 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev` against a broker on the default REST address.
    proxy: { '/v2': process.env.TERN_REST_URL ?? 'http://127.0.0.1:8080' },
  },
});
