// esbuild for Carnet's bundle (run by scripts/build-frontend.sh): one minified IIFE.
// usage: node build.mjs <outfile>
import { readFile } from "node:fs/promises";

import * as esbuild from "esbuild";

// htmx's internal `eval(str)` (its private htmx._ helper, never called with
// allowEval: false) is a direct eval, which stops esbuild from shortening any name
// in htmx (+15 kB). An indirect eval keeps the same behaviour for global code.
const indirectEval = {
  name: "htmx-indirect-eval",
  setup(build) {
    build.onLoad({ filter: /htmx\.org[\\/]dist[\\/]htmx\.esm\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const patched = source.replace("return eval(str)", "return (0, eval)(str)");
      if (patched === source || /[^.\w]eval\(/.test(patched)) {
        throw new Error("htmx changed: revisit the indirect-eval patch in build.mjs");
      }
      return { contents: patched, loader: "js" };
    });
  },
};

await esbuild.build({
  entryPoints: ["src/carnet.js"],
  outfile: process.argv[2],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  charset: "utf8",
  legalComments: "none",
  logLevel: "warning",
  banner: {
    js: "/* Carnet: built from frontend/src by scripts/build-frontend.sh; do not edit. */",
  },
  plugins: [indirectEval],
});
