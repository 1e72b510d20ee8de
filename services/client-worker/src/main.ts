import 'reflect-metadata';
import { runWorker } from './run-worker';

runWorker(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('client-worker crashed:', error);
    process.exitCode = 1;
  },
);
