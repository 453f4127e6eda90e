// dist/stepWorker.js, the script a step worker process runs: it loads the step worker itself
// (dist/stepWorkerMain.js) through a V8 code cache when the run worker names a cache directory
// (`--code-cache=DIR`), since a step worker's start-up is what `spawn` pays for every step.
import { join } from "node:path";
import { requireWithCodeCache } from "./codeCache";

const CODE_CACHE_FLAG = "--code-cache=";
const cacheDir = process.argv.find((a) => a.startsWith(CODE_CACHE_FLAG))?.slice(CODE_CACHE_FLAG.length);
const main = join(__dirname, "stepWorkerMain.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports
if (cacheDir) requireWithCodeCache(main, cacheDir);
else require(main);
