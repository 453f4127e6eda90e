// zod (used by the bundled run config validation) probes `new Function("")` to decide whether it
// may compile parsers; under the panel's CSP (no 'unsafe-eval') that probe is refused and reported
// as a CSP violation. Tell zod up front not to try. Imported first by main.ts.
import { config } from "zod";

config({ jitless: true });
