// The `skiff` command: what the bundle runs (see scripts/bundle-cli.mjs).
import './lean-heap.js';
import { main } from './main.js';

main(process.argv.slice(2)).then((code) => {
  // Flush before exiting: keep-alive sockets to the API server would otherwise hold the process open.
  process.stdout.write('', () => process.exit(code));
});
