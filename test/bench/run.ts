// `npm run bench`: every benchmark in sequence. Each prints a few lines and one JSON line, with
// ratios against a baseline measured in the same run (DESIGN.md: these machines are noisy).
import { gatewayBench } from './gateway.bench.ts';
import { membersBench } from './members.bench.ts';
import { samlBench } from './saml.bench.ts';
import { scimBench } from './scim.bench.ts';
import { tokensBench } from './tokens.bench.ts';

const benchmarks: Array<() => Promise<void>> = [membersBench, tokensBench, samlBench, scimBench, gatewayBench];

for (const bench of benchmarks) await bench();
