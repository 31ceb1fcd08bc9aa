// CDK entry point (cdk.json: `npx tsx infra/app.ts`); the CLI collects the assembly on exit.
import { buildApp } from './build-app.ts';

buildApp();
