// Builds the console into ACCORD_UI_OUT (CMake passes BUILD_DIR/ui, beside the accord binary).
// JSX goes through esbuild's automatic runtime for Preact: no Babel, no plugin.  Nothing inline:
// the Content-Security-Policy allows scripts and styles from the server's own origin only.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/ui/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: process.env.ACCORD_UI_OUT || 'dist',
    emptyOutDir: true,
    target: 'es2020',
    assetsInlineLimit: 0, // data: URLs would break img-src 'self'
    modulePreload: { polyfill: false },
    reportCompressedSize: false, // scripts/size.mjs reports what counts
  },
});
