#!/usr/bin/env node
// The runtime-gate command. The package ships TypeScript sources and runs them through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../harness/cli/main.ts');
