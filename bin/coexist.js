#!/usr/bin/env node
// `npx coexist ...`: runs scripts/cli.ts through tsx (a dependency), in this process, so the
// exit code and the output are the CLI's own. Resolved from this file's real path, so it works
// through the node_modules/.bin link npm creates.
'use strict';
const path = require('node:path');
const tsx = require('tsx/cjs/api');

tsx.require(path.join(__dirname, '..', 'scripts', 'cli.ts'), __filename).main(process.argv.slice(2));
