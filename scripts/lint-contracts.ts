import { lintContracts } from '../harness/contract/lint-contracts.ts';

const findings = await lintContracts();
for (const f of findings) console.error(`${f.contract}: ${f.message}`);
console.log(findings.length === 0 ? 'contracts lint clean' : `${findings.length} contract lint finding(s)`);
process.exitCode = findings.length === 0 ? 0 : 1;
