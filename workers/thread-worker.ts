// Entry of a worker thread that runs one version. koffi is imported before the host asks
// for anything, so a pre-started (standby) worker only has to dlopen.
import { parentPort } from 'node:worker_threads';
import { expose, nodeEndpoint } from '../src/rpc.js';
import { LibraryService } from './library-service.js';

if (parentPort === null) throw new Error('thread-worker.js must run in a worker thread');
expose(new LibraryService(), nodeEndpoint(parentPort));
