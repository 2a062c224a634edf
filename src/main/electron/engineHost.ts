// The engine host entry: what the Electron utilityProcess (and `node bin/stageb.js`)
// runs. It never imports electron; progress leaves as one RunEvent JSON per stdout line.
import { main } from '../cli';

process.exitCode = await main(process.argv.slice(2));
