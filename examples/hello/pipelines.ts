// The three-op job from Dagster's execution docs, plus two assets.
import { op, job, asset, defineAssetJob, RetryPolicy, Backoff, z } from "sluice";

export const return_one = op(function return_one() {
  return 1;
});

export const add_two = op({ name: "add_two", tags: { "sluice/priority": "2" } }, (ctx, i: number) => i + 2);

export const multi_three = op(
  {
    name: "multi_three",
    config: z.object({ factor: z.number().default(3) }),
    retryPolicy: new RetryPolicy({ maxRetries: 3, delay: 0.2, backoff: Backoff.LINEAR }),
  },
  (ctx, i: number) => {
    ctx.log.info(`multiplying ${i} by ${ctx.config.factor}`);
    return i * ctx.config.factor;
  },
);

export const my_job = job({ name: "my_job", description: "return_one → add_two → multi_three" }, () => {
  multi_three(add_two(return_one()));
});

export const orders = asset({ name: "orders", description: "Today's orders." }, async () => [
  { id: 1, amount: 30, at: new Date("2026-11-20T10:00:00Z") },
  { id: 2, amount: 12, at: new Date("2026-11-20T11:30:00Z") },
]);

export const summary = asset({ name: "summary", deps: [orders] }, async (ctx, { orders }) => ({
  count: orders.length,
  total: orders.reduce((sum: number, o: { amount: number }) => sum + o.amount, 0),
}));

export const all_assets = defineAssetJob({ name: "all_assets", selection: "*" });
