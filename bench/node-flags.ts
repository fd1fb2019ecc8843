/**
 * The node flags the gateway runs with — in the Dockerfile's CMD, in `npm start` and in the bench
 * (test/k8s.test.ts keeps the three in step): a 16 MB young generation (semi-space) on every Node
 * version. Node 20 sizes it so by itself; Node 24 sizes it from the machine's memory, much larger on
 * a big node, which took a 1,000-stream burst from ~195 to ~280 MB of RSS.
 */
export const GATEWAY_NODE_FLAGS = ['--max-semi-space-size=16'];
