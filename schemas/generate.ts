// Writes the JSON Schemas shipped with Sluice: `node --import tsx schemas/generate.ts`.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { instanceJsonSchema, runConfigJsonSchema } from "../src/engine/config/jsonSchema";

export const GENERATED = {
  "sluice.schema.json": () => instanceJsonSchema(),
  "run-config.schema.json": () => runConfigJsonSchema(),
};

export function render(schema: unknown): string {
  return JSON.stringify(schema, null, 2) + "\n";
}

if (/generate\.ts$/.test(process.argv[1] ?? "")) {
  for (const [name, make] of Object.entries(GENERATED)) {
    writeFileSync(join(__dirname, name), render(make()));
    console.log(`wrote schemas/${name}`);
  }
}
