// The example job file that `Sluice: New Job File` writes: three ops, return_one → add_two →
// multi_three, wired into one job. Only the job is exported, so several example files can live in
// one workspace as long as their job names differ (the name comes from the file name).

export type JobFileFlavor = "ts" | "esm" | "cjs";

export const JOB_FILE_EXTENSIONS = [".ts", ".mts", ".cts", ".js", ".mjs", ".cjs"] as const;

export function flavorOf(fileName: string): JobFileFlavor {
  if (/\.(ts|mts|cts)$/.test(fileName)) return "ts";
  if (fileName.endsWith(".cjs")) return "cjs";
  return "esm";
}

/** `hello_job.ts` → `hello_job`, `orders.ts` → `orders_job`, `my-etl.mjs` → `my_etl_job`. */
export function jobNameForFile(fileName: string): string {
  const base = (fileName.split(/[\\/]/).pop() ?? fileName).replace(/\.[^.]+$/, "");
  let name = base.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "") || "my";
  if (/^[0-9]/.test(name)) name = `job_${name}`;
  return /(^|_)job$/.test(name) ? name : `${name}_job`;
}

export function jobFileTemplate(jobName: string, flavor: JobFileFlavor): string {
  const ts = flavor === "ts";
  const num = ts ? ": number" : "";
  const imports =
    flavor === "cjs" ? `const { job, op, z } = require("sluice");` : `import { job, op, z } from "sluice";`;
  const exportJob = flavor === "cjs" ? `const ${jobName} =` : `export const ${jobName} =`;
  const tail = flavor === "cjs" ? `\nmodule.exports = { ${jobName} };\n` : "";
  return `// A Sluice job file. Click "▶ Run job" above \`${jobName}\` to run it; the run shows up in the
// Sluice view's Runs list. The "sluice" module needs no install: the Sluice extension provides it.
${imports}

// An op is one step of a job. Its name defaults to the function's name.
const return_one = op(function return_one() {
  return 1;
});

// Upstream values arrive after \`ctx\`, in the order they are wired in the job.
const add_two = op({ name: "add_two" }, (ctx, i${num}) => i + 2);

// Op config is validated by a zod schema; set it in run config under \`ops.multi_three.config\`.
const multi_three = op(
  { name: "multi_three", config: z.object({ factor: z.number().default(3) }) },
  (ctx, i${num}) => {
    ctx.log.info(\`multiplying \${i} by \${ctx.config.factor}\`);
    return i * ctx.config.factor;
  },
);

// A job wires ops together. Sluice discovers every job that a job file exports.
${exportJob} job({ name: "${jobName}" }, () => {
  multi_three(add_two(return_one()));
});
${tail}`;
}
